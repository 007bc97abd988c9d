import type pg from 'pg';
import { zeroCounts, type Counts } from '../domain/counts.js';
import type { WorkTables } from './import-work.repository.js';
import { IMPORT_WORK_MEM, WHOLE_FILE_WORK_MEM } from './import.repository.js';

/**
 * The plan of an import (CONTRACT §2): each staged row with what the database holds for it and
 * what applying the rows one by one in file order would do, computed by PostgreSQL as joins of
 * the whole staged file (or of one part of it) with the roster. Nothing is written but the plan.
 *
 * Students are independent in an import (it never changes an email), so a student's rows only
 * depend on each other. A student named once is a closed form of its row and the stored state; a
 * student named several times without a `set` row is a chain per (student, course) pair and a
 * chain of names, computed with window functions over its rows in line order. A student named
 * several times with a `set` row (a `set` deactivates the student's other courses) is left to the
 * domain fold (`kind = 'folded'`, import-fold.ts). The rows of a student that does not exist yet
 * fail (`name_required`) until the first `set`/`add` row with a name, which creates it; a
 * `deactivate` row before that changes nothing (`noop`).
 */

const PLAN_COLUMNS = `line, part, ek, ck, email, name, course, action, kind, applies, multi, student_id, stored_name, creates, renames, name_before,
  course_id, enrollment_id, stored_active, stored_source, effect, others, last_on_pair, final_active, takes_source`;

/** Creates the (empty) plan table; finishPlan indexes it once the whole file is planned. */
export async function createPlan(client: pg.ClientBase, t: WorkTables): Promise<void> {
  await client.query(`drop table if exists ${t.plan}`);
  await client.query(`
    create unlogged table ${t.plan} (
      line int4 not null, part int4 not null, ek text not null, ck text not null,
      email text not null, name text, course text not null, action text not null,
      kind text not null, applies boolean not null, multi boolean not null,
      student_id int8, stored_name text, creates boolean not null, renames boolean not null, name_before text,
      course_id int8, enrollment_id int8, stored_active boolean, stored_source text,
      effect text, others int8[] not null, last_on_pair boolean not null, final_active boolean not null, takes_source boolean not null)`);
}

/**
 * Which staged rows a plan covers: one part (planned again inside its transaction), or a slice of
 * the whole file, the parts from `from` to before `to` (the whole file is planned as slices side
 * by side; their students are disjoint, so each is planned as if it were the file). A range of
 * parts, which the stage's statistics estimate, unlike an expression such as `part % 2 = 0`.
 */
export type PlanScope = { part: number } | { from: number; to: number };

/** The whole file's `parts` as `count` slices of about as many parts. */
export function planSlices(parts: number, count: number): PlanScope[] {
  const n = Math.max(1, Math.min(count, parts));
  return Array.from({ length: n }, (_, i) => ({ from: Math.floor((i * parts) / n), to: Math.floor(((i + 1) * parts) / n) }));
}

/**
 * Plans the staged rows of `rows` into the plan table, replacing what it held for a part: the
 * state they meet is the database's as this transaction sees it. A quiet row (valid, changing
 * nothing and writing nothing, most rows of a nightly sync or a re-run) is left out: it is counted
 * from the stage table (summarizePlan). The last row of a stored pair is quiet
 * only if the pair ends as stored: its state, and its source (`source`, the import's) when the
 * rows take the pair over.
 */
export async function planRows(client: pg.ClientBase, t: WorkTables, rows: PlanScope, source: string | null): Promise<void> {
  const whole = !('part' in rows);
  // The staged rows planned, as SQL (both numbers are integers of ours).
  const mine =
    'part' in rows
      ? (alias: string) => `${alias}part = ${Math.trunc(rows.part)}`
      : (alias: string) => `${alias}part >= ${Math.trunc(rows.from)} and ${alias}part < ${Math.trunc(rows.to)}`;
  if (!whole) await client.query(`delete from ${t.plan} where ${mine('')}`);
  // The whole file meets the roster as joins of sets; one part (a few thousand rows, planned again
  // inside its transaction) by index probes, whatever the statistics of tables that grew since.
  const students =
    whole
      ? `select k.*, st.id as student_id, st.name as stored_name from k left join students st on lower(st.email) = k.ek`
      : `select k.*, st.id as student_id, st.name as stored_name from k left join lateral (select id, name from students where lower(email) = k.ek limit 1) st on true`;
  // A `set` row deactivates its student's other active enrollments, looked up only where there
  // are some: the student has several active enrollments (the whole file: a hash of those few
  // students, not a count of every student's), or one and the row's own pair is not it (a probe).
  const { rows: sets } = await client.query<{ any: boolean }>(
    `select exists (select 1 from ${t.stage} where valid and action = 'set' and ${mine('')}) as any`,
  );
  const active = whole
    ? `select ks0.*, m.student_id is not null as several_active from ks0
         left join (select student_id from course_enrollments where active group by student_id having count(*) > 1) m using (student_id)`
    : `select ks0.*, (select count(*) from (select from course_enrollments where student_id = ks0.student_id and active limit 2) x) > 1 as several_active from ks0`;
  const others = sets[0]!.any
    ? `case when r.action = 'set' and ks.n = 1 and ks.student_id is not null
                 and (ks.several_active or (en.active is not true and exists (select from course_enrollments o where o.student_id = ks.student_id and o.active)))
            then array(select o.id from course_enrollments o where o.student_id = ks.student_id and o.active and o.course_id is distinct from c.id order by o.id)
            else '{}' end`
    : `'{}'::int8[]`;
  const enrollment =
    whole
      ? `left join course_enrollments en on en.student_id = ks.student_id and en.course_id = c.id`
      : `left join lateral (select id, active, source from course_enrollments where student_id = ks.student_id and course_id = c.id) en on true`;
  // The courses by folded name (unique): all of them for the whole file, a hash table the planner
  // sizes from their statistics; for one part, those its rows name, each found by the index.
  const courses = whole
    ? `not materialized (select id, lower(name) as ck from courses)`
    : `materialized (select d.ck, (select id from courses where lower(name) = d.ck limit 1) as id
                       from (select distinct ck from ${t.stage} where valid and ${mine('')}) d)`;
  const named = `${t.stage} r join ks using (ek) left join c using (ck)`;
  const theirs = `r.valid and ${mine('r.')}`;
  // A row meets the roster as the student it names exists then: before the file, or since its creating row.
  const live = `(ks.student_id is not null or r.line >= ks.creating_line)`;
  // The whole file's plan is written part by part, so that a part's rows share pages: each of a
  // part's statements then reads a few pages, not one page per row of the part.
  // Rows of the whole file meet the roster by hash joins: the planner's guesses for the CTEs below
  // (a fixed 200 rows) would otherwise pick a nested loop of a million index probes. Its hash
  // tables and sort are held in memory (WHOLE_FILE_WORK_MEM) rather than spilled to disk in batches.
  if (whole) await client.query(`set local enable_nestloop = off; set local work_mem = '${WHOLE_FILE_WORK_MEM}'`);
  await client.query(
    `insert into ${t.plan} (${PLAN_COLUMNS})
     with k as (
       select ek, count(*) as n, bool_or(action = 'set') as has_set,
              min(line) filter (where action <> 'deactivate' and name is not null) as creating_line,
              min(line) filter (where name is not null) as first_named_line,
              min(name collate "C") is distinct from max(name collate "C") as names_differ
         from ${t.stage} where valid and ${mine('')} group by ek),
     -- Of the students named several times without a set row, those whose rows carry different
     -- names or name a pair more than once (the pairs counted only if there are such students).
     knotted as (
       select ek from k where n > 1 and not has_set and names_differ
       union
       select ek from ${t.stage} where valid and ${mine('')} and ek in (select ek from k where n > 1 and not has_set)
        group by ek, ck having count(*) > 1),
     ks0 as (${students}),
     ks as materialized (${sets[0]!.any ? active : 'select * from ks0'}),
     c as ${courses},
     -- The chains of the students named several times without a set row, per pair and of names:
     -- needed only where a pair is named more than once or the names differ (a nightly file names
     -- each student in several courses, each once, under one name).
     chained as (
       select r.line,
              lag(r.action) over pair as prev_action,
              coalesce(bool_or(r.action <> 'deactivate') over (pair rows between unbounded preceding and 1 preceding), false) as made_before,
              (array_agg(r.name) filter (where r.name is not null) over (student rows between unbounded preceding and 1 preceding)) as names_before,
              lead(r.line) over pair is null as last_on_pair,
              last_value(r.action) over (pair rows between unbounded preceding and unbounded following) <> 'deactivate' as final_active,
              bool_or(r.action <> 'deactivate') over (partition by r.ek, r.ck) as takes_source
         from ${named} where ${theirs} and ks.n > 1 and not ks.has_set and ${live}
                            and r.ek in (select ek from knotted)
       window pair as (partition by r.ek, r.ck order by r.line), student as (partition by r.ek order by r.line)),
     f as (
       select r.line, r.part, r.ek, r.ck, r.email, r.name, r.course, r.action, ks.n, ks.creating_line,
              ks.student_id, ks.stored_name, c.id as course_id, en.id as enrollment_id, en.active as stored_active, en.source as stored_source,
              ks.n > 1 and ks.has_set as folded, coalesce(${live}, false) as live,
              -- The name the student has before this row, from the rows before it (else the stored one);
              -- a student of one name has it after its first named row (what a row without one carries is unused).
              case when m.line is not null then m.names_before[array_upper(m.names_before, 1)]
                   when ks.n > 1 and not ks.has_set and r.line > ks.first_named_line then r.name end as name_earlier,
              coalesce(m.last_on_pair, true) as last_on_pair,
              coalesce(m.final_active, r.action <> 'deactivate') as final_active,
              coalesce(m.takes_source, r.action <> 'deactivate') as takes_source,
              en.id is not null or coalesce(m.made_before, false) as exists_before,
              case when m.prev_action is not null then m.prev_action <> 'deactivate' else coalesce(en.active, false) end as active_before,
              ${others} as others
         from ${t.stage} r join ks using (ek) left join c using (ck)
         ${enrollment}
         left join chained m using (line)
        where ${theirs}),
     g as (select f.*, student_id is null and live and not folded and line = creating_line as creates from f),
     p as (
       select line, part, ek, ck, email, name, course, action,
              case when folded then 'folded' when live then 'applied' when action = 'deactivate' then 'noop' else 'name_required' end as kind,
              live and action <> 'deactivate' as applies, n > 1 as multi,
              student_id, stored_name, creates,
              live and not folded and not creates and name is not null
                and name is distinct from coalesce(name_earlier, stored_name) as renames,
              case when not creates then coalesce(name_earlier, stored_name) end as name_before,
              course_id, enrollment_id, stored_active, stored_source,
              case when not live or folded then null
                   when action <> 'deactivate' then case when not exists_before then 'created' when not active_before then 'activated' end
                   when exists_before and active_before then 'deactivated' end as effect,
              case when live and not folded and action = 'set' then others else '{}' end as others,
              last_on_pair, final_active, live and not folded and takes_source as takes_source
         from g)
     select ${PLAN_COLUMNS} from p
      where not (kind in ('applied', 'noop') and not creates and not renames and effect is null and cardinality(others) = 0
                 and not (last_on_pair and enrollment_id is not null
                          and (final_active is distinct from stored_active or (takes_source and stored_source is distinct from $1))))
      ${whole ? 'order by part, line' : ''}`,
    [source],
  );
  if (whole) await client.query(`set local enable_nestloop = on; set local work_mem = '${IMPORT_WORK_MEM}'`);
}

/**
 * Indexes the whole file's plan by part, once every slice is planned (one sorted build: kept up
 * row by row, the index cost a fifth of a fresh file's plan), and gathers its statistics: the
 * parts' statements join it with the roster.
 */
export async function finishPlan(client: pg.ClientBase, t: WorkTables): Promise<void> {
  await client.query(`create index on ${t.plan} (part)`);
  await client.query(`analyze ${t.plan}`);
}

/** What the planned rows of `parts` (every part when null) do, in the counters of CONTRACT §4; folded rows are counted by the fold. */
export type PlanSummary = { counts: Counts; nameRequiredLines: number[] };

/** `staged`: the valid staged rows of `parts`, when the caller knows them (partWork); else they are counted. */
export async function summarizePlan(client: pg.ClientBase, t: WorkTables, parts: number[] | null, staged?: number): Promise<PlanSummary> {
  const { rows } = await client.query<Record<string, string> & { name_required_lines: number[] }>(
    `select count(*) filter (where kind <> 'folded') as rows,
            count(*) filter (where kind in ('applied', 'noop')) as valid,
            count(*) filter (where kind = 'name_required') as invalid,
            count(*) filter (where creates) as students_created,
            count(*) filter (where renames) as students_updated,
            count(*) filter (where effect = 'created') as enrollments_created,
            count(*) filter (where effect = 'activated') as enrollments_activated,
            count(*) filter (where effect = 'deactivated') + coalesce(sum(cardinality(others)), 0) as enrollments_deactivated,
            count(*) filter (where kind = 'noop' or (kind = 'applied' and not creates and not renames and effect is null and cardinality(others) = 0)) as unchanged,
            coalesce(array_agg(line order by line) filter (where kind = 'name_required'), '{}') as name_required_lines,
            coalesce($2::int8, (select count(*) from ${t.stage} where valid and ($1::int4[] is null or part = any($1)))) - count(*) as quiet
       from ${t.plan} where $1::int4[] is null or part = any($1)`,
    [parts, staged ?? null],
  );
  const row = rows[0]!;
  const counts = zeroCounts();
  for (const key of Object.keys(counts) as Array<keyof Counts>) counts[key] = Number(row[key] ?? 0);
  // The quiet rows, left out of the plan: valid, and unchanged.
  const quiet = Number(row.quiet);
  counts.rows += quiet;
  counts.valid += quiet;
  counts.unchanged += quiet;
  return { counts, nameRequiredLines: row.name_required_lines };
}

/** Students the plan creates. */
export async function plannedStudentCreations(client: pg.ClientBase, t: WorkTables): Promise<number> {
  const { rows } = await client.query<{ n: string }>(`select count(*) as n from ${t.plan} where creates`);
  return Number(rows[0]!.n);
}

/**
 * Creates the courses the planned rows would create (of `parts`, or all), each named as the first
 * row that creates it (in file order) names it, ids in that order (the parts look them up by name).
 * A `set`/`add` row creates its course unless it fails (`applies`).
 */
export async function createPlannedCourses(client: pg.ClientBase, t: WorkTables, parts: number[] | null): Promise<void> {
  // The first creating row of each course and its name in one pass of the plan (which has no
  // index on line): the smallest of "line, zero-padded, then the name", compared byte by byte.
  // Against a min(line) joined back to the plan: 0.5 s -> 0.25 s for 990,000 rows (2026-12-01).
  await client.query(
    `insert into courses (name)
     select substr(first, 12) from (
       select min((lpad(line::text, 10, '0') || ' ' || course) collate "C") as first from ${t.plan}
        where course_id is null and applies and ($1::int4[] is null or part = any($1)) group by ck) f
      order by first
     on conflict do nothing`,
    [parts],
  );
}

/** The staged rows of the folded students of `parts` (every part when null), in file order. */
export async function foldedRows(
  client: pg.ClientBase,
  t: WorkTables,
  parts: number[] | null,
): Promise<Array<{ line: number; email: string; name: string | null; course: string; action: 'set' | 'add' | 'deactivate' }>> {
  const { rows } = await client.query(
    `select line, email, name, course, action from ${t.plan} where kind = 'folded' and ($1::int4[] is null or part = any($1)) order by line`,
    [parts],
  );
  return rows;
}

/**
 * What each part holds: its valid staged rows, and the rows of its plan (each writes, or is folded
 * or is a row error: quiet rows are left out of the plan). A part with none planned is only
 * counted; parts are grouped so that each transaction writes about the same.
 */
export async function partWork(client: pg.ClientBase, t: WorkTables): Promise<Array<{ part: number; rows: number; work: number }>> {
  const { rows } = await client.query<{ part: number; rows: string; work: string }>(
    `select s.part, s.rows, coalesce(p.work, 0) as work
       from (select part, count(*) as rows from ${t.stage} where valid group by part) s
       left join (select part, count(*) as work from ${t.plan} group by part) p using (part)
      order by s.part`,
  );
  return rows.map((r) => ({ part: r.part, rows: Number(r.rows), work: Number(r.work) }));
}
