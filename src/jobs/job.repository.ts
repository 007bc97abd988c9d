import type pg from 'pg';
import { createBatcher } from '../async/batcher.js';
import { zeroCounts } from '../domain/counts.js';
import { query, withPgClient, type Orm } from '../db/orm.js';
import type { JobPayload, JobRowError, JobStatus, JobType } from './job.model.js';
import { toJobView, type JobRecord, type JobView } from './job-view.js';

/** The job rows: inserting queued jobs, reading their views, their row errors and their status. */

// An import's or a revert's options come out of its small payload; a batch's payload (up to 10,000
// commands) is never read. A revert that changed something (or may) is the job's `reverted_by`.
const JOB_VIEW_COLUMNS = `id, type, status, counts, processed, total, result, error, warnings, created_at, started_at, finished_at,
  case when type = 'import' then payload - 'upload_id' - 'size_bytes' - 'sha256' - 'scan' - 'file_name' - 'approved'
       when type = 'revert' then jsonb_build_object('dry_run', payload->'dry_run', 'force', payload->'force') end as options,
  case when type = 'import' then payload->>'file_name' end as file_name, reverts, hold,
  case when status = 'running' and type in ('import', 'revert') then
    case when type = 'revert' then 'applying' when state is null then 'staging' when state->>'phase' = 'staged' then 'planning'
         when state ? 'sweepFrom' then 'sweeping' else 'applying' end end as phase,
  (select r.id from jobs r where r.reverts = jobs.id and r.payload->>'dry_run' <> 'true'
      and (r.status not in ('failed', 'cancelled') or r.processed > 0) order by r.seq desc limit 1) as reverted_by`;

/** A job to insert, queued: its id, its type and payload, and its total when known. */
export type NewJob = { id: string; total: number | null } & JobPayload;

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

/** Inserts one queued job. */
export const insertJob = (client: pg.ClientBase, job: NewJob): Promise<void> => insertJobs(client, [job]);

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
    client.query<JobRecord>({ name: 'find-jobs', text: `select ${JOB_VIEW_COLUMNS} from jobs where id = any($1::uuid[])`, values: [ids] }),
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
  const rows = await query<JobRecord & { seq: string }>(
    orm,
    `select ${JOB_VIEW_COLUMNS}, seq from jobs
      where ($1::bigint = 0 or seq < $1) and ($2::text is null or type = $2) and ($3::text is null or status = $3)
      order by seq desc limit $4`,
    [filter.beforeSeq, filter.type ?? null, filter.status ?? null, filter.limit + 1],
  );
  const page = rows.slice(0, filter.limit);
  return { items: page.map(toJobView), nextBeforeSeq: rows.length > filter.limit ? Number(page.at(-1)!.seq) : null };
}

/** A page of a job's row errors in line order, after (`line`, `seq`) of the last one seen. */
export async function listJobErrors(
  orm: Orm,
  jobId: string,
  after: [number, number],
  limit: number,
): Promise<{ items: Array<JobRowError & { seq: number }>; more: boolean }> {
  const rows = await query<JobRowError & { seq: number; line: string | null }>(
    orm,
    `select seq, line, "column", code, message, value from job_errors
      where job_id = $1 and (coalesce(line, 0), seq) > ($2, $3) order by coalesce(line, 0), seq limit $4`,
    [jobId, after[0], after[1], limit + 1],
  );
  const items = rows.slice(0, limit).map((r) => ({ ...r, line: r.line === null ? null : Number(r.line) }));
  return { items, more: rows.length > limit };
}

/** Appends row errors to a job, numbering them from `firstSeq`. */
export async function insertJobErrors(client: pg.ClientBase, jobId: string, firstSeq: number, errors: readonly JobRowError[]): Promise<void> {
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

/** Just the status of a job (the workers' cheap check), or null when there is no such job. */
export async function jobStatus(orm: Orm, id: string): Promise<JobStatus | null> {
  const rows = await query<{ status: JobStatus }>(orm, `select status from jobs where id = $1`, [id]);
  return rows[0]?.status ?? null;
}

/** What the history routes need to know of a job: its seq (the key of its changes) and whether its changes are previews. */
export type JobRef = { id: string; seq: number; type: JobType; status: JobStatus; dryRun: boolean; previews: boolean };

/** The job's reference, or null when there is no such job. */
export async function findJobRef(orm: Orm, id: string): Promise<JobRef | null> {
  const rows = await query<{ id: string; seq: string; type: JobType; status: JobStatus; dry_run: boolean; previews: boolean }>(
    orm,
    `select id, seq, type, status, type in ('import', 'revert') and payload->>'dry_run' = 'true' as dry_run,
            exists (select 1 from planned_changes p where p.job_seq = jobs.seq) as previews
       from jobs where id = $1`,
    [id],
  );
  const r = rows[0];
  return r ? { id: r.id, seq: Number(r.seq), type: r.type, status: r.status, dryRun: r.dry_run, previews: r.previews } : null;
}
