import type pg from 'pg';
import { withTimeout } from '../async/timeout.js';
import { tryLockSession, unlockSession } from '../db/locks.js';
import { withPgClient } from '../db/orm.js';
import type { Deps } from '../process/deps.js';
import { ensureSearchIndex } from '../students/search-index.repository.js';
import { enqueueJobs, QUEUE_NAMES, queueNameFor, type QueueName } from '../queues/queues.js';
import type { JobType } from './job.model.js';
import { handedOverUnfinished } from './job-outbox.repository.js';
import { deleteExpiredJobs, deleteExpiredKeys } from './job-retention.repository.js';
/** Jobs handed over more recently than this are left alone (a wake-up being added right now). */
const MIN_AGE_SECONDS = 10;
/** Idempotency keys are kept at least this long (CONTRACT §4), whatever the job retention. */
const MIN_KEY_RETENTION_HOURS = 24;
/** Job ids per wake-up, as the relay's hand-over. */
const WAKE_UP_IDS = 1_000;
/** The BullMQ states of a wake-up that will still reach a worker. */
const LIVE_STATES = ['wait', 'active', 'delayed', 'prioritized', 'waiting-children'] as const;

export type ReconcileReport = { requeued: number; deletedJobs: number; deletedKeys: number; searchIndexBuilt: boolean };
type ReconcileDeps = Pick<Deps, 'orm' | 'queues' | 'queueBackend' | 'config' | 'logger'>;

/** How long one round of queue calls may take before the pass gives up (and frees its lock). */
const QUEUE_TIMEOUT_MS = 10_000;

/**
 * One reconciliation pass: when PostgreSQL holds unfinished jobs that were handed to BullMQ
 * (relay.ts) but their queue holds no wake-up that will still reach a worker (Redis restarted or
 * flushed, a wake-up that failed for good), one new wake-up names them all; then finished jobs and
 * idempotency keys past their retention are deleted; and when no import is running anywhere, the
 * search index a bulk load dropped is built again if that load was cut short and never resumed
 * (search-index.repository.ts). A live wake-up is enough: a worker it reaches
 * works on every unfinished job of its queue, oldest first (commands.worker.ts, imports.worker.ts).
 * A session advisory lock makes it one pass at a time across every worker process; no transaction
 * stays open while the queues are asked. Returns null when another process is reconciling right now.
 */
export async function reconcileOnce(deps: ReconcileDeps, minAgeSeconds = MIN_AGE_SECONDS): Promise<ReconcileReport | null> {
  return withPgClient(deps.orm, async (client) => {
    if (!(await tryLockSession(client, 'reconcile'))) return null;
    try {
      const rows = await handedOverUnfinished(client, minAgeSeconds);
      let requeued = 0;
      for (const name of QUEUE_NAMES) {
        const jobs = rows.filter((r) => queueNameFor(r.type) === name);
        if (jobs.length) requeued += await withTimeout(wakeIfNoneLive(deps, name, jobs), QUEUE_TIMEOUT_MS, deps.queueBackend.kind);
      }
      const deletedJobs = await deleteExpiredJobs(client, deps.config.jobRetentionHours);
      const deletedKeys = await deleteExpiredKeys(client, Math.max(MIN_KEY_RETENTION_HOURS, deps.config.jobRetentionHours));
      const searchIndexBuilt = await ensureSearchIndexWhenNoImportRuns(client);
      const report = { requeued, deletedJobs, deletedKeys, searchIndexBuilt };
      if (requeued || deletedJobs || deletedKeys || searchIndexBuilt) deps.logger.info(report, 'reconciled jobs');
      return report;
    } finally {
      await unlockSession(client, 'reconcile');
    }
  });
}

/** The search index built again if missing, under the imports lock: no import is running, none starts meanwhile. */
async function ensureSearchIndexWhenNoImportRuns(client: pg.ClientBase): Promise<boolean> {
  if (!(await tryLockSession(client, 'imports'))) return false;
  try {
    return (await ensureSearchIndex(client)) === 'built';
  } finally {
    await unlockSession(client, 'imports');
  }
}

/**
 * One wake-up for `jobs` when their queue holds none that will reach a worker. Never BullMQ's
 * per-job state: the queue's counts are one cheap read on either backend.
 */
async function wakeIfNoneLive(deps: Pick<ReconcileDeps, 'queues'>, name: QueueName, jobs: Array<{ id: string; type: JobType }>): Promise<number> {
  const counts = await deps.queues[name].getJobCounts(...LIVE_STATES);
  if (Object.values(counts).some((n) => n > 0)) return 0;
  for (let i = 0; i < jobs.length; i += WAKE_UP_IDS) await enqueueJobs(deps.queues, jobs.slice(i, i + WAKE_UP_IDS));
  return jobs.length;
}

/** Runs `reconcileOnce` every `intervalMs` until closed; errors are logged and retried next time. */
export function startReconciler(deps: ReconcileDeps, intervalMs = 20_000) {
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<unknown> = Promise.resolve();
  let closed = false;
  const tick = () => {
    current = reconcileOnce(deps)
      .catch((err) => deps.logger.warn({ err }, 'reconciliation failed; will retry'))
      .finally(() => {
        if (!closed) timer = setTimeout(tick, intervalMs);
      });
  };
  timer = setTimeout(tick, Math.min(intervalMs, 2_000));
  return {
    name: 'reconciler',
    close: async () => {
      closed = true;
      clearTimeout(timer);
      await current;
    },
  };
}
