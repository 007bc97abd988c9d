import type pg from 'pg';
import { zeroCounts, type Counts } from '../domain/counts.js';
import { query, type Orm } from '../db/orm.js';

/**
 * What the metrics read. The running totals behind the Prometheus counters (migration
 * ..._job_totals) only ever grow, in the same transaction as the change they count (finishJobs,
 * a committed import batch), so deleting old jobs (retention) never lowers them and a rolled-back
 * transaction never counts.
 */

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
export type JobTotals = { finished: Array<{ type: string; status: string; jobs: number }>; importRowsApplied: number; syncHolds: number };

/** Reads every total in one statement (both tables are a handful of rows). */
export async function readJobTotals(orm: Orm): Promise<JobTotals> {
  const rows = await query<{ type: string | null; status: string | null; n: string }>(
    orm,
    `select type, status, jobs as n from job_totals
     union all select null, 'rows_applied', coalesce(sum(rows_applied), 0) from import_totals
     union all select null, 'holds', coalesce(sum(holds), 0) from import_totals`,
  );
  const total = (what: string) => Number(rows.find((r) => r.type === null && r.status === what)?.n ?? 0);
  return {
    finished: rows.filter((r) => r.type !== null).map((r) => ({ type: r.type!, status: r.status!, jobs: Number(r.n) })),
    importRowsApplied: total('rows_applied'),
    syncHolds: total('holds'),
  };
}

/** The jobs kept in PostgreSQL by type and status, with the sums of their counts (batches and real imports only). */
export type JobGroup = { type: string; status: string; jobs: number; rows: Partial<Record<keyof Counts, number>> };

const COUNT_KEYS = Object.keys(zeroCounts()) as Array<keyof Counts>;

/**
 * One grouped scan of `jobs`: about 0.2 s per 100,000 jobs on 2 cores. Rows are summed for batches
 * and real imports only (single commands are one row each, and skipping their counts keeps the scan
 * cheap); payload is read for imports only.
 */
export async function readJobGroups(orm: Orm): Promise<JobGroup[]> {
  const sums = COUNT_KEYS.map((k) => `coalesce(sum((counts->>'${k}')::bigint) filter (where applied), 0) as "${k}"`).join(', ');
  const rows = await query<Record<string, string>>(
    orm,
    `select type, status, count(*) as jobs, ${sums}
       from (select type, status, counts,
                    type = 'batch' or (type = 'import' and payload->>'dry_run' is distinct from 'true') as applied
               from jobs) j
      group by type, status`,
  );
  return rows.map((r) => ({
    type: r.type!,
    status: r.status!,
    jobs: Number(r.jobs),
    rows: Object.fromEntries(COUNT_KEYS.map((k) => [k, Number(r[k])])),
  }));
}
