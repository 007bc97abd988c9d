import type pg from 'pg';
import type { Counts } from '../domain/counts.js';
import { inTransaction } from '../db/transaction.js';
import type { Orm } from '../db/orm.js';
import type { FinishedStatus, JobError, JobResult, JobStatus } from './job.model.js';

/** How a job ends. Absent counts, processed and total keep what the job row holds; result and error are set (null when absent). */
export type JobEnd = {
  id: string;
  status: FinishedStatus;
  counts?: Counts;
  processed?: number;
  /** The total becomes the rows processed (a job that read its whole input). */
  exactTotal?: boolean;
  result?: JobResult | null;
  error?: JobError | null;
};

/**
 * The one way a job finishes (commands, imports, failures and cancellations alike): one statement
 * moves the jobs that are still queued, running or awaiting approval to their final status, adds them to the running
 * totals of the metrics (`job_totals`, one upsert per type and status) and frees the stored file of
 * a finished import. A job already finished is left alone, so nothing is counted twice. Finishing a
 * job straight from `queued` (a command applied in one transaction) counts its one attempt.
 * Returns the ids of the jobs it finished.
 */
export async function finishJobs(client: pg.ClientBase, ends: readonly JobEnd[]): Promise<string[]> {
  if (!ends.length) return [];
  const { rows } = await client.query<{ id: string }>(
    `with ended as (
       update jobs j set status = u.status, counts = coalesce(u.counts, j.counts), processed = coalesce(u.processed, j.processed),
              total = case when u.exact_total then coalesce(u.processed, j.processed) else j.total end,
              result = u.result, error = u.error,
              attempts = case when j.status = 'queued' and u.status <> 'cancelled' then j.attempts + 1 else j.attempts end,
              cancel_requested = j.cancel_requested or u.status = 'cancelled',
              started_at = case when u.status = 'cancelled' then j.started_at else coalesce(j.started_at, now()) end,
              finished_at = now(), updated_at = now()
         from unnest($1::uuid[], $2::text[], $3::jsonb[], $4::bigint[], $5::boolean[], $6::jsonb[], $7::jsonb[])
              as u(id, status, counts, processed, exact_total, result, error)
        where j.id = u.id and j.status in ('queued', 'running', 'awaiting_approval')
        returning j.id, j.type, j.status),
     counted as (
       insert into job_totals (type, status, jobs)
       select type, status, count(*) from ended group by type, status order by type, status
       on conflict (type, status) do update set jobs = job_totals.jobs + excluded.jobs),
     freed as (
       delete from upload_chunks c using uploads up, ended e where up.job_id = e.id and c.upload_id = up.id)
     select id from ended`,
    [
      ends.map((e) => e.id),
      ends.map((e) => e.status),
      ends.map((e) => (e.counts ? JSON.stringify(e.counts) : null)),
      ends.map((e) => e.processed ?? null),
      ends.map((e) => e.exactTotal ?? false),
      ends.map((e) => (e.result ? JSON.stringify(e.result) : null)),
      ends.map((e) => (e.error ? JSON.stringify(e.error) : null)),
    ],
  );
  return rows.map((r) => r.id);
}

/**
 * Cancels a job: a queued one at once; a running one is flagged and stops between batches.
 * Returns the job's status after the request, or null when there is no such job.
 */
export async function requestCancel(orm: Orm, id: string): Promise<JobStatus | null> {
  return inTransaction(orm, async (client) => {
    // Locked first, so that a job being claimed right now is either cancelled here or runs.
    const { rows } = await client.query<{ status: JobStatus }>(`select status from jobs where id = $1 for no key update`, [id]);
    const status = rows[0]?.status;
    // Queued, or held for approval: nothing runs, so it is cancelled at once.
    if (status === 'queued' || status === 'awaiting_approval') {
      await finishJobs(client, [{ id, status: 'cancelled' }]);
      return 'cancelled';
    }
    if (status === 'running') await client.query(`update jobs set cancel_requested = true, updated_at = now() where id = $1`, [id]);
    return status ?? null;
  });
}

/** Marks an unfinished job failed for good (retries exhausted), with a message for the client. */
export async function markJobFailed(orm: Orm, id: string, message: string): Promise<void> {
  await inTransaction(orm, (client) => finishJobs(client, [{ id, status: 'failed', error: { code: 'failed', message } }]));
}
