import { UnrecoverableError, type Processor } from 'bullmq';
import { coalesce } from '../src/async/coalesce.js';
import type { Deps } from '../src/process/deps.js';
import { drainCommandJobs } from '../src/commands/command-apply.service.js';
import { markJobFailed } from '../src/jobs/job-finish.repository.js';
import { FINISHED } from '../src/jobs/job.model.js';
import { wokenJobStatuses } from '../src/jobs/job-outbox.repository.js';
import { COMMANDS_QUEUE, type CommandsJobData, type CommandsJobName } from '../src/queues/commands.queue.js';
import { jobIdsOf } from '../src/queues/queues.js';
import type { RunningWorker } from './running-worker.js';

/** Wake-ups handled at once per process; they share drains, so this is cheap. */
const CONCURRENCY = 8;

/**
 * The `commands` queue worker. A BullMQ job only wakes the drain: the drain applies every queued
 * command job in PostgreSQL, oldest first, many per transaction, and the processor returns once
 * PostgreSQL says each job its wake-up names is finished.
 */
export function createCommandWorker(deps: Deps): RunningWorker {
  const log = deps.logger.child({ worker: 'commands' });
  let closing = false;
  // On shutdown the drain stops between transactions; what is left is picked up by another worker.
  const drain = coalesce(() => drainCommandJobs(deps.orm, log, () => closing));
  const unfinished = async (ids: string[]) => [...(await wokenJobStatuses(deps.orm, ids))].filter(([, status]) => !FINISHED.has(status)).map(([id]) => id);

  const processor: Processor<CommandsJobData, unknown, CommandsJobName> = async (job) => {
    switch (job.name) {
      case 'apply-commands':
      case 'apply-command': {
        const ids = jobIdsOf(job.data);
        for (let pass = 0; pass < 3; pass++) {
          if (!(await unfinished(ids)).length) return { jobs: ids.length };
          if (closing) throw new Error('worker shutting down: the wake-up goes back to the queue');
          await drain();
        }
        throw new Error(`${(await unfinished(ids)).length} of its ${ids.length} jobs still unfinished after three drains`);
      }
      default: {
        const unknown: never = job.name;
        throw new UnrecoverableError(`unknown job name ${String(unknown)}`);
      }
    }
  };

  const worker = deps.queueBackend.createWorker<CommandsJobData, CommandsJobName>(COMMANDS_QUEUE, processor, {
    concurrency: CONCURRENCY,
    // A killed worker's wake-ups go back to the queue within seconds (BullMQ's defaults: up to a
    // minute, during which the commands they name wait). A false stall is harmless: the drain
    // applies what PostgreSQL holds, whichever wake-up runs it.
    lockDuration: 10_000,
    stalledInterval: 5_000,
    maxStalledCount: 1_000,
  });
  // Its connection errors come here once per retry: the message is enough (the backend logs the outage).
  worker.on('error', (err) => log.warn({ err: err.message }, 'worker error'));
  worker.on('failed', (job, err) => {
    if (!job) return;
    const final = job.attemptsMade >= (job.opts.attempts ?? 1) || err instanceof UnrecoverableError;
    log.warn({ err: err.message, final, job_ids: jobIdsOf(job.data) }, 'command wake-up attempt failed');
    if (!final) return;
    // The client sees a plain message; the database error itself stays in the logs.
    const message = `the job could not be applied after ${job.attemptsMade} attempts; see the worker logs`;
    void unfinished(jobIdsOf(job.data))
      .then((ids) => Promise.all(ids.map((id) => markJobFailed(deps.orm, id, message))))
      .catch((e) => log.error({ err: e, job_ids: jobIdsOf(job.data) }, 'could not mark jobs failed'));
  });
  return {
    name: 'commands',
    close: () => {
      closing = true;
      return worker.close(!deps.queueBackend.up());
    },
  };
}
