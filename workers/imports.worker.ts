import { UnrecoverableError, WaitingError, type Processor } from 'bullmq';
import { isTransientDbError } from '../src/db/apply-transaction.js';
import type { Deps } from '../src/process/deps.js';
import { runImport, type ImportOutcome } from '../src/imports/import.service.js';
import { oldestUnfinishedImport } from '../src/imports/import.repository.js';
import { withImportLock } from '../src/imports/import-lock.js';
import { markJobFailed } from '../src/jobs/job-finish.repository.js';
import { SETTLED } from '../src/jobs/job.model.js';
import type { Hold } from '../src/jobs/job-view.js';
import { runRevert } from '../src/history/revert.service.js';
import { wokenJobStatuses } from '../src/jobs/job-outbox.repository.js';
import { IMPORTS_QUEUE, type ImportsJobData, type ImportsJobName } from '../src/queues/imports.queue.js';
import { jobIdsOf } from '../src/queues/queues.js';
import type { RunningWorker } from './running-worker.js';

/**
 * The `imports` queue worker. Imports apply one at a time, in acceptance order: a BullMQ job only
 * says "imports have work"; under a session advisory lock of its own, the processor runs the
 * oldest unfinished import in PostgreSQL until every job its wake-up names is settled. On SIGTERM it stops at the
 * next batch boundary and moves its BullMQ job back to wait, so another worker continues at once
 * from the checkpoint. A worker killed outright loses its BullMQ lock: the stalled checker hands
 * the job to another worker (short lock, so within seconds), which resumes from the checkpoint.
 */
export function createImportWorker(deps: Deps, opts: { batchRows?: number; writers?: number } = {}): RunningWorker {
  const log = deps.logger.child({ worker: 'imports' });
  let stopping = false;
  const control = {
    stopping: () => stopping,
    batchRows: opts.batchRows,
    writers: opts.writers ?? deps.config.importWriters,
    onHold: (hold: Hold, jobId: string) => log.warn({ job_id: jobId, hold }, 'roster sync held for approval: nothing was applied'),
  };

  const processor: Processor<ImportsJobData, unknown, ImportsJobName> = async (job, token) => {
    switch (job.name) {
      case 'apply-imports':
      case 'apply-import': {
        const ids = jobIdsOf(job.data);
        const outcome = await withImportLock(deps.orm, control.stopping, () => drainUntilSettled(ids));
        if (outcome === 'handed_back') {
          await job.moveToWait(token);
          throw new WaitingError();
        }
        return { jobs: ids.length };
      }
      default: {
        const unknown: never = job.name;
        throw new UnrecoverableError(`unknown job name ${String(unknown)}`);
      }
    }
  };

  /**
   * Runs the oldest unfinished imports and reverts, one after another, until each of `ids` is
   * settled (finished, or held). An id no longer in PostgreSQL has nothing left to do.
   */
  const drainUntilSettled = async (ids: string[]): Promise<ImportOutcome> => {
    for (;;) {
      const open = [...(await wokenJobStatuses(deps.orm, ids))].filter(([, status]) => !SETTLED.has(status)).map(([id]) => id);
      if (!open.length) return 'finished';
      const next = (await oldestUnfinishedImport(deps.orm)) ?? { id: open[0]!, type: 'import' as const };
      const outcome = await runLogged(next);
      if (outcome === 'handed_back') return outcome;
    }
  };

  const runLogged = async (next: { id: string; type: 'import' | 'revert' }): Promise<ImportOutcome> => {
    const jobId = next.id;
    const jobLog = log.child({ job_id: jobId });
    const started = Date.now();
    jobLog.info(`${next.type} run started`);
    try {
      const outcome = next.type === 'revert' ? await runRevert(deps.orm, jobId, control) : await runImport(deps.orm, jobId, { ...control, log: jobLog });
      jobLog.info({ outcome, ms: Date.now() - started }, `${next.type} run ended`);
      return outcome;
    } catch (err) {
      if (isTransientDbError(err)) throw err; // BullMQ retries with backoff; the checkpoint makes it exact
      // Not transient: a bug or data the database refuses. Retrying would fail the same way.
      jobLog.error({ err }, 'import failed');
      // The client sees a plain message; the database error itself stays in the logs.
      await markJobFailed(deps.orm, jobId, 'the import could not be applied; see the worker logs for this job id');
      return 'finished';
    }
  };

  const worker = deps.queueBackend.createWorker<ImportsJobData, ImportsJobName>(IMPORTS_QUEUE, processor, {
    concurrency: 1,
    // A killed worker's import is picked up again within seconds; a false stall is harmless
    // (the import lock and the checkpoint decide who applies what), so allow many.
    lockDuration: 10_000,
    stalledInterval: 5_000,
    maxStalledCount: 1_000,
  });
  // Its connection errors come here once per retry: the message is enough (the backend logs the outage).
  worker.on('error', (err) => log.warn({ err: err.message }, 'worker error'));
  worker.on('failed', (job, err) => log.warn({ job_ids: job && jobIdsOf(job.data), err: err.message }, 'import wake-up attempt failed'));
  return {
    name: 'imports',
    close: async () => {
      stopping = true;
      await worker.close(!deps.queueBackend.up());
    },
  };
}
