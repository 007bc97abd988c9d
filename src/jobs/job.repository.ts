import type pg from 'pg';
import { zeroCounts, type Counts } from '../domain/counts.js';
import type { EnrollmentCommand } from '../domain/enrollment.js';
import type { FieldError } from '../domain/validation.js';
import { withPgClient, type Orm } from '../db/orm.js';
import { createBatcher } from '../async/batcher.js';
import { inTransaction } from '../db/transaction.js';
import { countingFinished } from './job-totals.repository.js';

/** The kinds of job: one action, a batch of actions, a CSV import. */
export type JobType = 'command' | 'batch' | 'import';
export type JobStatus = 'queued' | 'running' | 'completed' | 'completed_with_errors' | 'failed' | 'cancelled';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for a string that can be a job id (a UUID): anything else is simply not found. */
export const isJobId = (id: string): boolean => UUID.test(id);

export const FINISHED: ReadonlySet<JobStatus> = new Set(['completed', 'completed_with_errors', 'failed', 'cancelled']);

/** What a command or batch job carries: its actions, in order. */
export type CommandPayload = { commands: EnrollmentCommand[] };

/** A row error of a job: `line` is the file line (imports) or the 1-based command index (batches). */
export type JobRowError = FieldError & { line: number | null };

export type JobError = { code: string; message: string };
export type JobResult = { student_id: number | null; course_id: number | null; enrollment_id: number | null };

/** The job as `GET /jobs/{id}` shows it (CONTRACT §4). */
export type JobView = {
  id: string;
  type: JobType;
  status: JobStatus;
  progress: { processed: number; total: number | null; percent: number | null };
  counts: Counts;
  error: JobError | null;
  result?: JobResult;
  /** File-level warnings of an import (e.g. ignored columns), when there are any. */
  warnings?: string[];
  /** An import's options, so that a dry run's counts are never read as changes made. */
  options?: ImportOptionsView;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
};

export type ImportOptionsView = { mode: 'set' | 'add'; dry_run: boolean };

type JobRecord = {
  id: string;
  type: JobType;
  status: JobStatus;
  counts: Partial<Counts>;
  processed: string;
  total: string | null;
  result: JobResult | null;
  error: JobError | null;
  warnings?: string[] | null;
  options?: ImportOptionsView | null;
  created_at: Date | string;
  started_at: Date | string | null;
  finished_at: Date | string | null;
};

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

export function toJobView(r: JobRecord): JobView {
  const processed = Number(r.processed);
  const total = r.total === null ? null : Number(r.total);
  const finished = FINISHED.has(r.status);
  const percent = total === null ? (finished ? 100 : null) : total === 0 ? 100 : Math.min(100, Math.floor((processed / total) * 1000) / 10);
  const view: JobView = {
    id: r.id,
    type: r.type,
    status: r.status,
    progress: { processed, total, percent },
    counts: { ...zeroCounts(), ...r.counts },
    error: r.error,
    created_at: iso(r.created_at)!,
    started_at: iso(r.started_at),
    finished_at: iso(r.finished_at),
  };
  if (r.result) view.result = r.result;
  if (r.warnings?.length) view.warnings = r.warnings;
  if (r.options) view.options = r.options;
  return view;
}

// An import's options come out of its small payload; a batch's payload (up to 10,000 commands) is never read.
const JOB_COLUMNS = `id, type, status, counts, processed, total, result, error, warnings, created_at, started_at, finished_at,
  case when type = 'import' then jsonb_build_object('mode', payload->'mode', 'dry_run', payload->'dry_run') end as options`;

/** Inserts a queued job. */
export type NewJob = { id: string; type: JobType; payload: unknown; total: number | null };

/** Inserts one queued job. */
export const insertJob = (client: pg.ClientBase, job: NewJob): Promise<void> => insertJobs(client, [job]);

/** The channel on which a commit of new jobs wakes the relay that hands them to BullMQ (relay.ts). */
export const NEW_JOBS_CHANNEL = 'enroll_new_jobs';

/**
 * Inserts queued jobs in one statement, in the order given (their `seq` follows it). When the
 * transaction commits, PostgreSQL notifies NEW_JOBS_CHANNEL, and a relay hands them to BullMQ.
 */
export async function insertJobs(client: pg.ClientBase, jobs: NewJob[]): Promise<void> {
  await client.query(
    `with inserted as (
       insert into jobs (id, type, payload, total, counts)
       select id, type, payload, total, $5::jsonb from unnest($1::uuid[], $2::text[], $3::jsonb[], $4::bigint[]) as j(id, type, payload, total))
     select pg_notify('${NEW_JOBS_CHANNEL}', '')`,
    [jobs.map((j) => j.id), jobs.map((j) => j.type), jobs.map((j) => JSON.stringify(j.payload)), jobs.map((j) => j.total), JSON.stringify(zeroCounts())],
  );
}

/**
 * The job's current view, read from PostgreSQL only (never from BullMQ). The hot path of every
 * status poll: the polls arriving together share one prepared primary-key read.
 */
export function findJob(orm: Orm, id: string): Promise<JobView | null> {
  let load = jobLoaders.get(orm);
  if (!load) {
    load = createBatcher<string, JobView | null>((ids) => findJobs(orm, ids), { maxInFlight: 4, maxBatch: 500 });
    jobLoaders.set(orm, load);
  }
  return load(id);
}

const jobLoaders = new WeakMap<Orm, (id: string) => Promise<JobView | null>>();

/** The views of the jobs `ids`, in the same order (null where there is no such job). */
async function findJobs(orm: Orm, ids: string[]): Promise<Array<JobView | null>> {
  const { rows } = await withPgClient(orm, (client) =>
    client.query<JobRecord>({ name: 'find-jobs', text: `select ${JOB_COLUMNS} from jobs where id = any($1::uuid[])`, values: [ids] }),
  );
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.map((id) => {
    const row = byId.get(id.toLowerCase());
    return row ? toJobView(row) : null;
  });
}

/** The newest jobs first, before `beforeSeq` (0: from the newest), optionally of one type or status. */
export async function listJobs(
  orm: Orm,
  filter: { beforeSeq: number; limit: number; type?: JobType; status?: JobStatus },
): Promise<{ items: JobView[]; nextBeforeSeq: number | null }> {
  const rows = await orm.em.getConnection().execute<Array<JobRecord & { seq: string }>>(
    `select ${JOB_COLUMNS}, seq from jobs
      where (?::bigint = 0 or seq < ?) and (?::text is null or type = ?) and (?::text is null or status = ?)
      order by seq desc limit ?`,
    [filter.beforeSeq, filter.beforeSeq, filter.type ?? null, filter.type ?? null, filter.status ?? null, filter.status ?? null, filter.limit + 1],
  );
  const page = rows.slice(0, filter.limit);
  return { items: page.map(toJobView), nextBeforeSeq: rows.length > filter.limit ? Number(page.at(-1)!.seq) : null };
}

/** A page of a job's row errors, in order, after `cursor` (the last `seq` seen). */
export async function listJobErrors(
  orm: Orm,
  jobId: string,
  after: number,
  limit: number,
): Promise<{ items: Array<JobRowError & { seq: number }>; more: boolean }> {
  const rows = await orm.em.getConnection().execute<Array<JobRowError & { seq: number; line: string | null }>>(
    `select seq, line, "column", code, message, value from job_errors where job_id = ? and seq > ? order by seq limit ?`,
    [jobId, after, limit + 1],
  );
  const items = rows.slice(0, limit).map((r) => ({ ...r, line: r.line === null ? null : Number(r.line) }));
  return { items, more: rows.length > limit };
}

/** Appends row errors to a job, numbering them from `firstSeq`. */
export async function insertJobErrors(
  client: pg.ClientBase,
  jobId: string,
  firstSeq: number,
  errors: JobRowError[],
): Promise<void> {
  if (!errors.length) return;
  await client.query(
    `insert into job_errors (job_id, seq, line, "column", code, message, value)
     select $1, * from unnest($2::int[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[])`,
    [
      jobId,
      errors.map((_, i) => firstSeq + i),
      errors.map((e) => e.line),
      errors.map((e) => e.column),
      errors.map((e) => e.code),
      errors.map((e) => e.message),
      errors.map((e) => e.value),
    ],
  );
}

/**
 * Cancels a job: a queued one at once; a running one is flagged and stops between batches.
 * Returns the job's status after the request, or null when there is no such job.
 */
export async function requestCancel(orm: Orm, id: string): Promise<JobStatus | null> {
  const status = await inTransaction(orm, async (client) => {
    // Locked first, so that we know whether this request is the one that cancels it (and counts it).
    const { rows: before } = await client.query<{ status: JobStatus }>(`select status from jobs where id = $1 for update`, [id]);
    if (before[0]?.status === 'queued') {
      await client.query(
        countingFinished(`update jobs set status = 'cancelled', finished_at = now(), cancel_requested = true, updated_at = now()
          where id = $1 returning type, status`),
        [id],
      );
      return 'cancelled';
    }
    const { rows } = await client.query<{ status: JobStatus }>(
      `update jobs set cancel_requested = status in ('queued', 'running'), updated_at = now() where id = $1 returning status`,
      [id],
    );
    return rows[0]?.status ?? null;
  });
  if (status === 'cancelled') await freeUploadedFile(orm, id);
  return status;
}

/** Deletes the stored file of a finished import (its chunks; the upload row with size and hash stays). */
async function freeUploadedFile(orm: Orm, jobId: string): Promise<void> {
  await orm.em.getConnection().execute(`delete from upload_chunks c using uploads u where u.id = c.upload_id and u.job_id = ?`, [jobId]);
}

/** Just the status of a job (the workers' cheap check), or null when there is no such job. */
export async function jobStatus(orm: Orm, id: string): Promise<JobStatus | null> {
  const rows = await orm.em.getConnection().execute<Array<{ status: JobStatus }>>(`select status from jobs where id = ?`, [id]);
  return rows[0]?.status ?? null;
}

/** Marks an unfinished job failed for good (retries exhausted), with a message for the client. */
export async function markJobFailed(orm: Orm, id: string, message: string): Promise<void> {
  await orm.em.getConnection().execute(
    countingFinished(`update jobs set status = 'failed', error = ?, finished_at = now(), updated_at = now()
      where id = ? and status in ('queued', 'running') returning type, status`),
    [JSON.stringify({ code: 'failed', message }), id],
  );
  await freeUploadedFile(orm, id);
}
