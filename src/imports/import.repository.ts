import type pg from 'pg';
import { addCounts, zeroCounts, type Counts } from '../domain/counts.js';
import { withPgClient, type Orm } from '../db/orm.js';
import { finishJobs } from '../jobs/job-finish.repository.js';
import type { FinishedStatus, ImportPayload, JobError, JobRowError } from '../jobs/job.model.js';
import { addImportRowsApplied } from '../jobs/job-totals.repository.js';
import { insertJobErrors } from '../jobs/job.repository.js';

/**
 * Where a running import is (`jobs.state`), checkpointed in the transaction of the work it
 * describes: the file staged (its rows, the invalid ones already counted and reported), the plan
 * made (at which roster version), the courses created, the parts applied.
 */
export type ImportState = {
  phase: 'staged' | 'planned';
  /** Parts the students are spread over. */
  parts: number;
  /** Rows in the stage table: a crash of PostgreSQL empties unlogged tables, and this tells. */
  staged: number;
  /** The file's invalid rows and their row errors, written when it was staged, counted with the first part applied (or the report). */
  invalid: number;
  invalidCounted?: boolean;
  stagedErrors: number;
  /** Row errors written so far (the next gets `errors + 1`). */
  errors: number;
  /** An approved sync: it holds again only if it would now deactivate more than this. */
  approved?: { deactivations: number };
  /** A sync past its parts: sweeping from this enrollment id on. */
  sweepFrom?: number;
  /** The roster version the plan was made at. */
  version?: number;
  coursesCreated?: boolean;
  /** Parts applied. */
  done: number[];
};

/** An import job as its worker resumes it. */
export type ImportJob = {
  id: string;
  seq: number;
  payload: ImportPayload;
  processed: number;
  counts: Counts;
  /** An estimate while the whole-file check runs, then the exact row count. */
  total: number | null;
  /** True once the whole-file check has finished (it records the file's warnings, maybe none). */
  scanned: boolean;
  state: ImportState | null;
};

type Row = { id: string; seq: string; payload: ImportPayload; processed: string; counts: Partial<Counts>; total: string | null; scanned: boolean; state: ImportState | null };
const toJob = (r: Row): ImportJob => ({
  id: r.id,
  seq: Number(r.seq),
  payload: r.payload,
  processed: Number(r.processed),
  counts: { ...zeroCounts(), ...r.counts },
  total: r.total === null ? null : Number(r.total),
  scanned: r.scanned,
  state: r.state,
});

/** The import or revert to run next: the oldest not finished, in the order they run (acceptance, or approval). */
export async function oldestUnfinishedImport(orm: Orm): Promise<{ id: string; type: 'import' | 'revert' } | null> {
  return withPgClient(orm, async (client) => {
    const { rows } = await client.query<{ id: string; type: 'import' | 'revert' }>(
      `select id, type from jobs where type in ('import', 'revert') and status in ('queued', 'running') order by run_seq limit 1`,
    );
    return rows[0] ?? null;
  });
}

/** Marks the import running (again) and returns it; null when it is no longer queued or running. */
export async function startImportJob(orm: Orm, id: string): Promise<ImportJob | null> {
  return withPgClient(orm, async (client) => {
    const { rows } = await client.query<Row>(
      `update jobs set status = 'running', started_at = coalesce(started_at, now()), attempts = attempts + 1, updated_at = now()
        where id = $1 and type = 'import' and status in ('queued', 'running')
        returning id, seq, payload, processed, counts, total, warnings is not null as scanned, state`,
      [id],
    );
    return rows[0] ? toJob(rows[0]) : null;
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

/** PostgreSQL's memory for each hash table and sort of an import's statements. */
export const IMPORT_WORK_MEM = '64MB';
/** The same for the few statements that join the whole file with the roster (once per import): in memory, not spilled to disk in batches. */
export const WHOLE_FILE_WORK_MEM = '256MB';

/**
 * Settings for an import's transactions. No JIT: bulk-loaded tables have stale statistics, whose
 * huge estimates make PostgreSQL JIT-compile every statement. Asynchronous commit: a part and its
 * checkpoint commit together, so losing the last parts in a database crash loses them
 * consistently and the import redoes them; the import's end commits synchronously.
 */
export async function tuneImportTransaction(client: pg.ClientBase): Promise<void> {
  await client.query(`set local jit = off; set local synchronous_commit = off; set local work_mem = '${IMPORT_WORK_MEM}'; set local maintenance_work_mem = '128MB'`);
}

/** The job's row, locked (for no key update: the parts' foreign keys to it only share-lock its key), as a transaction of the import sees it. */
export async function lockImportJob(client: pg.ClientBase, id: string): Promise<{ status: string; cancelRequested: boolean; state: ImportState | null; counts: Counts; processed: number } | null> {
  const { rows } = await client.query<{ status: string; cancel_requested: boolean; state: ImportState | null; counts: Partial<Counts>; processed: string }>(
    `select status, cancel_requested, state, counts, processed from jobs where id = $1 for no key update`,
    [id],
  );
  const r = rows[0];
  return r ? { status: r.status, cancelRequested: r.cancel_requested, state: r.state, counts: { ...zeroCounts(), ...r.counts }, processed: Number(r.processed) } : null;
}

/** Whether the job was asked to cancel (read without a lock, between parts). */
export async function cancelRequested(client: pg.ClientBase, id: string): Promise<boolean> {
  const { rows } = await client.query<{ cancel_requested: boolean }>(`select cancel_requested from jobs where id = $1`, [id]);
  return rows[0]?.cancel_requested ?? false;
}

/**
 * Starts the import over from the stored file (first attempt, or its staged rows were lost): no
 * row errors, counts or parts yet. Only before any part was applied.
 */
export async function resetImport(client: pg.ClientBase, id: string): Promise<void> {
  await client.query(`delete from job_errors where job_id = $1`, [id]);
  await client.query(`update jobs set processed = 0, counts = $2, state = null, updated_at = now() where id = $1`, [id, JSON.stringify(zeroCounts())]);
}

/** Writes row errors after the `first - 1` already written. */
export const writeRowErrors = (client: pg.ClientBase, id: string, first: number, errors: readonly JobRowError[]) => insertJobErrors(client, id, first, errors);

/** Records the import's state (and, when given, its counts and rows processed). */
export async function saveImportState(client: pg.ClientBase, id: string, state: ImportState, progress?: { counts: Counts; processed: number }): Promise<void> {
  await client.query(
    `update jobs set state = $2, counts = coalesce($3, counts), processed = coalesce($4, processed), total = greatest(total, coalesce($4, 0)), updated_at = now() where id = $1`,
    [id, JSON.stringify(state), progress ? JSON.stringify(progress.counts) : null, progress?.processed ?? null],
  );
}

/**
 * The tail of a transaction of parts: the parts are marked applied, their counts and rows added to
 * the job's, their row errors numbered after the job's, and the rows they applied added to the
 * metrics' total. Throws when a part was already applied (another worker) or the job no longer
 * runs, which rolls the transaction back.
 */
export async function commitParts(
  client: pg.ClientBase,
  id: string,
  parts: number[],
  result: { counts: Counts; rows: number; errors: JobRowError[] },
): Promise<void> {
  const job = await lockImportJob(client, id);
  if (!job || job.status !== 'running' || !job.state) throw new LostPartError(`import ${id} no longer runs`);
  if (parts.some((p) => job.state!.done.includes(p))) throw new LostPartError(`import ${id}: a part of ${parts.join(',')} was applied elsewhere`);
  await writeRowErrors(client, id, job.state.errors + 1, result.errors);
  const state = { ...job.state, errors: job.state.errors + result.errors.length, done: [...job.state.done, ...parts], invalidCounted: true };
  const invalid = job.state.invalidCounted ? 0 : job.state.invalid;
  const counts = addCounts(addCounts(job.counts, result.counts), { ...zeroCounts(), rows: invalid, invalid });
  await saveImportState(client, id, state, { counts, processed: job.processed + result.rows + invalid });
  await addImportRowsApplied(client, result.counts.valid);
}

/** The tail of a sweep chunk's transaction: its deactivations counted, where it stopped recorded. */
export async function commitSweepChunk(client: pg.ClientBase, id: string, swept: number, sweepFrom: number): Promise<void> {
  const job = await lockImportJob(client, id);
  if (!job || job.status !== 'running' || !job.state) throw new LostPartError(`import ${id} no longer runs`);
  const counts = { ...job.counts, enrollments_deactivated: job.counts.enrollments_deactivated + swept };
  await saveImportState(client, id, { ...job.state, sweepFrom }, { counts, processed: job.processed });
}

/** A part (or the whole import) moved on elsewhere: roll back and leave it. */
export class LostPartError extends Error {
  override name = 'LostPartError';
}

/** Finishes an import not finished yet (finishJobs: counted in the totals, its stored file freed). */
export async function finishImportJob(
  client: pg.ClientBase,
  id: string,
  outcome: { status: FinishedStatus; processed?: number; counts?: Counts; error?: JobError; exactTotal: boolean },
): Promise<void> {
  await finishJobs(client, [{ id, ...outcome }]);
}

/** Fresh planner statistics of the roster tables, after an import grew them (autovacuum would, later). */
export async function analyzeRoster(orm: Orm): Promise<void> {
  await withPgClient(orm, (client) => client.query('analyze students, courses, course_enrollments'));
}

/** Marks a revert running (again) and returns it; null when it is no longer queued or running. */
export async function startRevertJob(orm: Orm, id: string): Promise<ImportJob | null> {
  return withPgClient(orm, async (client) => {
    const { rows } = await client.query<Row>(
      `update jobs set status = 'running', started_at = coalesce(started_at, now()), attempts = attempts + 1, updated_at = now()
        where id = $1 and type = 'revert' and status in ('queued', 'running')
        returning id, seq, payload, processed, counts, total, true as scanned, state`,
      [id],
    );
    return rows[0] ? toJob(rows[0]) : null;
  });
}
