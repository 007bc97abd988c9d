import { withTimeout } from '../async/timeout.js';
import { tryLockSession, unlockSession } from '../db/locks.js';
import { withPgClient } from '../db/orm.js';
import type { Deps } from '../process/deps.js';
import { enqueueJobs, queueFor } from '../queues/queues.js';
import type { JobType } from './job.model.js';
import { handedOverUnfinished } from './job-outbox.repository.js';
import { deleteExpiredJobs, deleteExpiredKeys } from './job-retention.repository.js';
/** Jobs handed over more recently than this are left alone (a BullMQ job being added right now). */
const MIN_AGE_SECONDS = 10;
const PIPELINE_CHUNK = 1_000;
/** Idempotency keys are kept at least this long (CONTRACT §4), whatever the job retention. */
const MIN_KEY_RETENTION_HOURS = 24;

export type ReconcileReport = { requeued: number; deletedJobs: number; deletedKeys: number };
type ReconcileDeps = Pick<Deps, 'orm' | 'queues' | 'redis' | 'config' | 'logger'>;

/** How long one round of Redis calls may take before the pass gives up (and frees its lock). */
const REDIS_TIMEOUT_MS = 10_000;

/**
 * One reconciliation pass: every job PostgreSQL says is queued or running, and was handed to
 * BullMQ (relay.ts), but BullMQ no longer holds (Redis restarted or flushed) is enqueued again;
 * then finished jobs and idempotency keys past their retention are deleted. A session advisory
 * lock makes it one pass at a time across every worker process; no transaction stays open while
 * Redis is asked. Returns null when another process is reconciling right now.
 */
export async function reconcileOnce(deps: ReconcileDeps, minAgeSeconds = MIN_AGE_SECONDS): Promise<ReconcileReport | null> {
  return withPgClient(deps.orm, async (client) => {
    if (!(await tryLockSession(client, 'reconcile'))) return null;
    try {
      const rows = await handedOverUnfinished(client, minAgeSeconds);
      let requeued = 0;
      for (let i = 0; i < rows.length; i += PIPELINE_CHUNK) {
        requeued += await withTimeout(requeueMissing(deps, rows.slice(i, i + PIPELINE_CHUNK)), REDIS_TIMEOUT_MS, 'redis');
      }
      const deletedJobs = await deleteExpiredJobs(client, deps.config.jobRetentionHours);
      const deletedKeys = await deleteExpiredKeys(client, Math.max(MIN_KEY_RETENTION_HOURS, deps.config.jobRetentionHours));
      const report = { requeued, deletedJobs, deletedKeys };
      if (requeued || deletedJobs || deletedKeys) deps.logger.info(report, 'reconciled jobs');
      return report;
    } finally {
      await unlockSession(client, 'reconcile');
    }
  });
}

/** Re-enqueues the jobs whose BullMQ entry is gone, or finished while PostgreSQL says it is not. */
async function requeueMissing(deps: Pick<ReconcileDeps, 'queues' | 'redis'>, jobs: Array<{ id: string; type: JobType }>): Promise<number> {
  const pipeline = deps.redis.pipeline();
  for (const job of jobs) pipeline.hmget(queueFor(deps.queues, job.type).toKey(job.id), 'timestamp', 'finishedOn');
  const answers = (await pipeline.exec()) ?? [];
  const missing: typeof jobs = [];
  for (const [i, job] of jobs.entries()) {
    const [err, fields] = answers[i] ?? [];
    if (err) throw err;
    const [timestamp, finishedOn] = fields as [string | null, string | null];
    if (timestamp && !finishedOn) continue; // BullMQ holds it, waiting, delayed or active
    if (timestamp) await queueFor(deps.queues, job.type).remove(job.id).catch(() => {});
    missing.push(job);
  }
  if (missing.length) await enqueueJobs(deps.queues, missing);
  return missing.length;
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
