import type pg from 'pg';
import { zeroCounts, type Counts } from '../domain/counts.js';
import { withPgClient, type Orm } from '../db/orm.js';
import { inTransaction } from '../db/transaction.js';
import { finishJobs } from '../jobs/job-finish.repository.js';
import type { FinishedStatus, ImportPayload, JobError, JobStatus } from '../jobs/job.model.js';
import { addImportRowsApplied } from '../jobs/job-totals.repository.js';
import { insertJobErrors } from '../jobs/job.repository.js';
import type { RowError } from './import-rows.js';

/** The state of an import job as its worker resumes it: the checkpoint of the last batch. */
export type ImportJobState = {
  id: string;
  payload: ImportPayload;
  processed: number;
  counts: Counts;
  /** An estimate while the whole-file check runs, then the exact row count. */
  total: number | null;
  /** True once the whole-file check has finished (it records the file's warnings, maybe none). */
  scanned: boolean;
};

type Row = { id: string; payload: ImportPayload; processed: string; counts: Partial<Counts>; total: string | null; scanned: boolean };
const toState = (r: Row): ImportJobState => ({
  id: r.id,
  payload: r.payload,
  processed: Number(r.processed),
  counts: { ...zeroCounts(), ...r.counts },
  total: r.total === null ? null : Number(r.total),
  scanned: r.scanned,
});

/** The oldest import not finished yet, in acceptance order. */
export async function oldestUnfinishedImport(orm: Orm): Promise<string | null> {
  return withPgClient(orm, async (client) => {
    const { rows } = await client.query<{ id: string }>(
      `select id from jobs where type = 'import' and status in ('queued', 'running') order by seq limit 1`,
    );
    return rows[0]?.id ?? null;
  });
}

/** Marks the import running (again) and returns its checkpoint; null when it is already finished. */
export async function startImportJob(orm: Orm, id: string): Promise<ImportJobState | null> {
  return withPgClient(orm, async (client) => {
    const { rows } = await client.query<Row>(
      `update jobs set status = 'running', started_at = coalesce(started_at, now()), attempts = attempts + 1, updated_at = now()
        where id = $1 and type = 'import' and status in ('queued', 'running')
        returning id, payload, processed, counts, total, warnings is not null as scanned`,
      [id],
    );
    return rows[0] ? toState(rows[0]) : null;
  });
}

/** Progress of the whole-file check: an estimated total, then the exact one and the warnings. */
export async function recordScanProgress(orm: Orm, id: string, total: number, warnings?: string[]): Promise<void> {
  await withPgClient(orm, (client) =>
    client.query(`update jobs set total = $2, warnings = coalesce($3, warnings), updated_at = now() where id = $1`, [
      id,
      total,
      warnings === undefined ? null : JSON.stringify(warnings),
    ]),
  );
}

/**
 * Settings for an import batch transaction. No JIT: bulk-loaded tables have stale statistics,
 * whose huge estimates make PostgreSQL JIT-compile every batch's lookups (tens of ms each).
 * Asynchronous commit: a batch and its checkpoint commit together, so losing the last batches in
 * a database crash loses them consistently and the import redoes them; a later synchronous
 * commit (any command, or the import's end) flushes them anyway, so nothing acknowledged to a
 * client is lost.
 */
export async function tuneImportTransaction(client: pg.ClientBase): Promise<void> {
  await client.query('set local jit = off; set local synchronous_commit = off');
}

/** Inside a batch transaction: the job's row, locked, to check who owns the checkpoint and whether to cancel. */
export async function lockImportJob(
  client: pg.ClientBase,
  id: string,
): Promise<{ status: JobStatus; processed: number; cancelRequested: boolean } | null> {
  const { rows } = await client.query<{ status: JobStatus; processed: string; cancel_requested: boolean }>(
    `select status, processed, cancel_requested from jobs where id = $1 for update`,
    [id],
  );
  const r = rows[0];
  return r ? { status: r.status, processed: Number(r.processed), cancelRequested: r.cancel_requested } : null;
}

/**
 * Writes a batch's checkpoint: rows consumed, counts, its row errors (numbered from `firstErrorSeq`),
 * and adds the rows it `applied` to the running total (so a long import shows in the metrics as it goes).
 */
export async function writeCheckpoint(
  client: pg.ClientBase,
  id: string,
  checkpoint: { processed: number; counts: Counts; errors: RowError[]; firstErrorSeq: number; applied: number },
): Promise<void> {
  await addImportRowsApplied(client, checkpoint.applied);
  // job_errors.column is nullable: a whole-row error (field_count) has no column.
  await insertJobErrors(client, id, checkpoint.firstErrorSeq, checkpoint.errors);
  await client.query(
    `update jobs set processed = $2, counts = $3, total = greatest(total, $2), updated_at = now() where id = $1`,
    [id, checkpoint.processed, JSON.stringify(checkpoint.counts)],
  );
}

/** The seq the next row error of a job gets. */
export async function nextErrorSeq(orm: Orm, id: string): Promise<number> {
  return withPgClient(orm, async (client) => {
    const { rows } = await client.query<{ n: number }>(`select coalesce(max(seq), 0) + 1 as n from job_errors where job_id = $1`, [id]);
    return rows[0]!.n;
  });
}

/** Finishes an import not finished yet (finishJobs: counted in the totals, its stored file freed). */
export async function finishImportJob(
  client: pg.ClientBase,
  id: string,
  outcome: { status: FinishedStatus; processed: number; counts: Counts; error?: JobError; exactTotal: boolean },
): Promise<void> {
  await finishJobs(client, [{ id, ...outcome }]);
}

/** Dry runs start over on every attempt: clear what an interrupted attempt reported. */
export async function resetImportProgress(orm: Orm, id: string): Promise<void> {
  await inTransaction(orm, async (client) => {
    await client.query(`delete from job_errors where job_id = $1`, [id]);
    await client.query(`update jobs set processed = 0, counts = $2, updated_at = now() where id = $1`, [id, JSON.stringify(zeroCounts())]);
  });
}

/** Dry runs report through their own connection (their data transaction is rolled back). */
export async function reportDryRunBatch(
  orm: Orm,
  id: string,
  report: { processed: number; counts: Counts; errors: RowError[]; firstErrorSeq: number },
): Promise<{ cancelRequested: boolean }> {
  return withPgClient(orm, async (client) => {
    await client.query('begin');
    try {
      await insertJobErrors(client, id, report.firstErrorSeq, report.errors);
      const { rows } = await client.query<{ cancel_requested: boolean }>(
        `update jobs set processed = $2, counts = $3, total = greatest(total, $2), updated_at = now() where id = $1 returning cancel_requested`,
        [id, report.processed, JSON.stringify(report.counts)],
      );
      await client.query('commit');
      return { cancelRequested: rows[0]?.cancel_requested ?? false };
    } catch (err) {
      await client.query('rollback').catch(() => {});
      throw err;
    }
  });
}
