import type { Deps } from '../process/deps.js';
import { withPgClient } from '../db/orm.js';
import { enqueueJobs, queueFor } from '../queues/queues.js';
import { withTimeout } from '../queues/redis.js';
import type { JobType } from './job.repository.js';

/** Any constant: only one reconciler runs at a time, across all worker processes. */
const RECONCILE_LOCK_KEY = 727_003;
/** Jobs handed over more recently than this are left alone (a BullMQ job being added right now). */
const MIN_AGE_SECONDS = 10;
const PIPELINE_CHUNK = 1_000;
const RETENTION_DELETE_CHUNK = 5_000;
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
    const { rows: lock } = await client.query<{ ok: boolean }>('select pg_try_advisory_lock($1) as ok', [RECONCILE_LOCK_KEY]);
    if (!lock[0]?.ok) return null;
    try {
      const { rows } = await client.query<{ id: string; type: JobType }>(
        `select id, type from jobs where status in ('queued', 'running') and enqueued_at is not null
           and enqueued_at < now() - make_interval(secs => $1) order by seq`,
        [minAgeSeconds],
      );
      let requeued = 0;
      for (let i = 0; i < rows.length; i += PIPELINE_CHUNK) {
        requeued += await withTimeout(requeueMissing(deps, rows.slice(i, i + PIPELINE_CHUNK)), REDIS_TIMEOUT_MS, 'redis');
      }
      const deletedJobs = await deleteInChunks(client, `delete from jobs where ctid in (select ctid from jobs
          where finished_at < now() - make_interval(hours => $1) limit ${RETENTION_DELETE_CHUNK})`, deps.config.jobRetentionHours);
      const keyHours = Math.max(MIN_KEY_RETENTION_HOURS, deps.config.jobRetentionHours);
      const deletedKeys = await deleteInChunks(client, `delete from idempotency_keys where ctid in (select ctid from idempotency_keys
          where created_at < now() - make_interval(hours => $1) limit ${RETENTION_DELETE_CHUNK})`, keyHours);
      const report = { requeued, deletedJobs, deletedKeys };
      if (requeued || deletedJobs || deletedKeys) deps.logger.info(report, 'reconciled jobs');
      return report;
    } finally {
      await client.query('select pg_advisory_unlock($1)', [RECONCILE_LOCK_KEY]);
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

/** Deletes in chunks, each its own statement (and so its own transaction): no long lock on a big table. */
async function deleteInChunks(client: { query: (q: string, p: unknown[]) => Promise<{ rowCount: number | null }> }, sql: string, hours: number) {
  let total = 0;
  for (;;) {
    const { rowCount } = await client.query(sql, [hours]);
    total += rowCount ?? 0;
    if ((rowCount ?? 0) < RETENTION_DELETE_CHUNK) return total;
  }
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
