import type pg from 'pg';
import type { SyncOptions } from '../jobs/job.model.js';
import type { WorkTables } from './import-work.repository.js';
import { IMPORT_WORK_MEM, WHOLE_FILE_WORK_MEM } from './import.repository.js';

/**
 * The sweep of a roster sync (CONTRACT §7): every enrollment that is active, in scope, and not
 * named by the file becomes inactive. In scope: the enrollments of the courses the file names
 * (`scope=courses`) or every enrollment (`all`); with a source, only that source's. A pair is named
 * by every staged row (an invalid row whose email and course are valid too: a typo never unenrolls).
 */

/**
 * Fills the sweep table with the enrollments the sweep would deactivate now, and returns how many
 * enrollments are active in scope (the base of the deactivation threshold).
 */
export async function planSweep(client: pg.ClientBase, t: WorkTables, sync: SyncOptions, source: string | null): Promise<{ activeInScope: number }> {
  await client.query(`drop table if exists ${t.sweep}`);
  // The courses in scope, looked up once for both statements below (null: every course). As a
  // list of ids (not a subquery) the planner runs the whole anti-join in parallel: 1.6–1.8 s ->
  // 1.1–1.4 s for the sweep of a 990,000-row night (`bench/micro/sweep.mjs`, 2026-12-02).
  const { rows: scoped } = await client.query<{ ids: string[] | null }>(
    `select case when $1::text = 'all' then null
                 else coalesce((select array_agg(c.id) from courses c where lower(c.name) in (select distinct ck from ${t.stage})), '{}') end as ids`,
    [sync.scope],
  );
  const courseIds = scoped[0]!.ids;
  const inScope = `
    select e.id, e.student_id, e.course_id from course_enrollments e
     where e.active and ($1::int8[] is null or e.course_id = any($1::int8[])) and ($2::text is null or e.source = $2)`;
  // One hash anti-join of the enrollments in scope with every named pair (duplicates and all: no
  // sort). Its join of the file with the students runs in parallel when tuples are priced as what
  // they cost here (PostgreSQL's default, 0.1 each, prices a million at more than the join): 2.7 s
  // -> 1.8 s for a million rows on 2 cores (2026-12-01). A statement that creates a table may run in
  // parallel; one that inserts may not.
  await client.query(`set local work_mem = '${WHOLE_FILE_WORK_MEM}'; set local parallel_tuple_cost = 0.01`);
  await client.query(
    `create unlogged table ${t.sweep} as
     ${inScope}
       and not exists (select 1 from ${t.stage} r join students s on lower(s.email) = r.ek join courses c on lower(c.name) = r.ck
                        where s.id = e.student_id and c.id = e.course_id)`,
    [courseIds, source],
  );
  await client.query(`set local work_mem = '${IMPORT_WORK_MEM}'; set local parallel_tuple_cost to default`);
  await client.query(`create index on ${t.sweep} (id)`);
  const { rows } = await client.query<{ n: string }>(`select count(*) as n from (${inScope}) i`, [courseIds, source]);
  return { activeInScope: Number(rows[0]!.n) };
}

/** Leaves out of the sweep what the rows deactivate themselves (a `set` row's other courses, a folded student's). */
export async function excludeRowDeactivations(client: pg.ClientBase, t: WorkTables, folded: readonly number[]): Promise<number> {
  await client.query(
    `delete from ${t.sweep} where id in (select unnest(others) from ${t.plan} where cardinality(others) > 0) or id = any($1::int8[])`,
    [folded],
  );
  const { rows } = await client.query<{ n: string }>(`select count(*) as n from ${t.sweep}`);
  return Number(rows[0]!.n);
}

/** The sweep's would-be changes, for a preview (no line: the sweep follows the rows). */
export async function recordSweepPreview(client: pg.ClientBase, t: WorkTables, jobSeq: number): Promise<void> {
  await client.query(
    `insert into planned_changes (job_seq, kind, student_id, course_id, before, after, line, ord)
     select $1, 'enrollment_deactivated', student_id, course_id, 'true', 'false', null, 0 from ${t.sweep} order by id`,
    [jobSeq],
  );
}

/**
 * Deactivates the next `limit` enrollments of the sweep after id `after` that are still active, and
 * records each deactivation (no line). Returns the last id looked at (null when the sweep is done)
 * and how many it deactivated.
 */
export async function sweepChunk(client: pg.ClientBase, t: WorkTables, jobSeq: number, after: number, limit: number): Promise<{ last: number | null; swept: number }> {
  const { rows } = await client.query<{ last: string | null; swept: string }>(
    `with chunk as (select id from ${t.sweep} where id > $2 order by id limit $3),
          swept as (update course_enrollments e set active = false, updated_at = now()
                      from chunk where e.id = chunk.id and e.active returning e.id, e.student_id, e.course_id),
          recorded as (insert into changes (job_seq, kind, student_id, course_id, before, after, line, ord)
                       select $1, 'enrollment_deactivated', student_id, course_id, 'true', 'false', null, 0 from swept order by id)
     select (select max(id) from chunk) as last, (select count(*) from swept) as swept`,
    [jobSeq, after, limit],
  );
  return { last: rows[0]!.last === null ? null : Number(rows[0]!.last), swept: Number(rows[0]!.swept) };
}
