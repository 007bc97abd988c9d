import type pg from 'pg';
import type { Orm } from '../db/orm.js';

/**
 * Running totals behind the Prometheus counters (migration ..._job_totals): jobs by type and
 * final status, and import rows applied. They only ever grow, in the same transaction as the
 * change they count, so deleting old jobs (retention) never lowers them and a rolled-back
 * transaction never counts.
 */

/**
 * Wraps an UPDATE of `jobs` that moves jobs from queued or running to a final status and returns
 * their `type, status`: one statement that also adds them to `job_totals`, one upsert per
 * (type, status) group however many jobs it finishes. The UPDATE must match only unfinished jobs
 * (a `status` condition, or rows this transaction locked while queued), so none counts twice.
 */
export const countingFinished = (update: string): string => `
  with finished as (${update})
  insert into job_totals (type, status, jobs)
  select type, status, count(*) from finished group by type, status order by type, status
  on conflict (type, status) do update set jobs = job_totals.jobs + excluded.jobs`;

/** Adds the rows an import batch applied, in the batch's own transaction (never for a dry run). */
export async function addImportRowsApplied(client: pg.ClientBase, rows: number): Promise<void> {
  if (rows <= 0) return;
  await client.query(
    `insert into import_totals (rows_applied) values ($1)
     on conflict (one_row) do update set rows_applied = import_totals.rows_applied + excluded.rows_applied`,
    [rows],
  );
}

/** The totals as the metrics read them: finished jobs by type and status, and import rows applied. */
export type JobTotals = { finished: Array<{ type: string; status: string; jobs: number }>; importRowsApplied: number };

/** Reads every total in one statement (both tables are a handful of rows). */
export async function readJobTotals(orm: Orm): Promise<JobTotals> {
  const rows = await orm.em.getConnection().execute<Array<{ type: string | null; status: string | null; n: string }>>(
    `select type, status, jobs as n from job_totals
     union all select null, null, coalesce(sum(rows_applied), 0) from import_totals`,
  );
  return {
    finished: rows.filter((r) => r.type !== null).map((r) => ({ type: r.type!, status: r.status!, jobs: Number(r.n) })),
    importRowsApplied: Number(rows.find((r) => r.type === null)?.n ?? 0),
  };
}
