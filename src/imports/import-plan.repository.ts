import type pg from 'pg';
import { zeroCounts, type Counts } from '../domain/counts.js';
import type { WorkTables } from './import-work.repository.js';

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

/** Creates the (empty) plan table. */
export async function createPlan(client: pg.ClientBase, t: WorkTables): Promise<void> {
  await client.query(`drop table if exists ${t.plan}`);
  await client.query(`
    create unlogged table ${t.plan} (
      line int4 primary key, part int4 not null, ek text not null, ck text not null,
      email text not null, name text, course text not null, action text not null,
      kind text not null, applies boolean not null, multi boolean not null,
      student_id int8, stored_name text, creates boolean not null, renames boolean not null, name_before text,
      course_id int8, enrollment_id int8, stored_active boolean, stored_source text,
      effect text, others int8[] not null, last_on_pair boolean not null, final_active boolean not null, takes_source boolean not null)`);
  await client.query(`create index on ${t.plan} (part)`);
}

/**
 * Plans the staged rows of `part` (every part when null) into the plan table, replacing what it
 * held for them: the state they meet is the database's as this transaction sees it.
 */
export async function planRows(client: pg.ClientBase, t: WorkTables, part: number | null): Promise<void> {
  const which = part === null ? -1 : part;
  if (part !== null) await client.query(`delete from ${t.plan} where part = $1`, [part]);
  // The whole file meets the roster as joins of sets; one part (a few thousand rows, planned again
  // inside its transaction) by index probes, whatever the statistics of tables that grew since.
  const students =
    part === null
      ? `select k.*, st.id as student_id, st.name as stored_name from k left join students st on lower(st.email) = k.ek`
      : `select k.*, st.id as student_id, st.name as stored_name from k left join lateral (select id, name from students where lower(email) = k.ek limit 1) st on true`;
  const enrollment =
    part === null
      ? `left join course_enrollments en on en.student_id = ks.student_id and en.course_id = c.id`
      : `left join lateral (select id, active, source from course_enrollments where student_id = ks.student_id and course_id = c.id) en on true`;
  const rows = `${t.stage} r join ks using (ek) left join c using (ck)`;
  const theirs = `r.valid and ($1::int4 < 0 or r.part = $1)`;
  // A row meets the roster as the student it names exists then: before the file, or since its creating row.
  const live = `(ks.student_id is not null or r.line >= ks.creating_line)`;
  // The whole file's plan is written part by part, so that a part's rows share pages: each of a
  // part's statements then reads a few pages, not one page per row of the part.
  // Rows of the whole file meet the roster by hash joins: the planner's guesses for the CTEs below
  // (a fixed 200 rows) would otherwise pick a nested loop of a million index probes.
  if (part === null) await client.query('set local enable_nestloop = off');
  await client.query(
    `insert into ${t.plan}
     with k as (
       select ek, count(*) as n, bool_or(action = 'set') as has_set,
              min(line) filter (where action <> 'deactivate' and name is not null) as creating_line
         from ${t.stage} where valid and ($1::int4 < 0 or part = $1) group by ek),
     ks as materialized (${students}),
     c as materialized (select d.ck, (select id from courses where lower(name) = d.ck limit 1) as id
                          from (select distinct ck from ${t.stage} where valid and ($1::int4 < 0 or part = $1)) d),
     -- The chains of the students named several times without a set row (few): per pair, and of names.
     chained as (
       select r.line,
              lag(r.action) over pair as prev_action,
              coalesce(bool_or(r.action <> 'deactivate') over (pair rows between unbounded preceding and 1 preceding), false) as made_before,
              (array_agg(r.name) filter (where r.name is not null) over (student rows between unbounded preceding and 1 preceding)) as names_before,
              lead(r.line) over pair is null as last_on_pair,
              last_value(r.action) over (pair rows between unbounded preceding and unbounded following) <> 'deactivate' as final_active,
              bool_or(r.action <> 'deactivate') over (partition by r.ek, r.ck) as takes_source
         from ${rows} where ${theirs} and ks.n > 1 and not ks.has_set and ${live}
       window pair as (partition by r.ek, r.ck order by r.line), student as (partition by r.ek order by r.line)),
     -- A set row of a student named once: the student's other active enrollments, which it deactivates.
     others as (
       select r.line, array_agg(o.id order by o.id) as ids
         from ${rows} join course_enrollments o on o.student_id = ks.student_id and o.active and o.course_id is distinct from c.id
        where ${theirs} and r.action = 'set' and ks.n = 1
        group by r.line),
     f as (
       select r.line, r.part, r.ek, r.ck, r.email, r.name, r.course, r.action, ks.n, ks.creating_line,
              ks.student_id, ks.stored_name, c.id as course_id, en.id as enrollment_id, en.active as stored_active, en.source as stored_source,
              ks.n > 1 and ks.has_set as folded, coalesce(${live}, false) as live,
              m.names_before, coalesce(m.last_on_pair, true) as last_on_pair,
              coalesce(m.final_active, r.action <> 'deactivate') as final_active,
              coalesce(m.takes_source, r.action <> 'deactivate') as takes_source,
              en.id is not null or coalesce(m.made_before, false) as exists_before,
              case when m.prev_action is not null then m.prev_action <> 'deactivate' else coalesce(en.active, false) end as active_before,
              coalesce(o.ids, '{}') as others
         from ${t.stage} r join ks using (ek) left join c using (ck)
         ${enrollment}
         left join chained m using (line) left join others o using (line)
        where ${theirs}),
     g as (select f.*, student_id is null and live and not folded and line = creating_line as creates from f)
     select line, part, ek, ck, email, name, course, action,
            case when folded then 'folded' when live then 'applied' when action = 'deactivate' then 'noop' else 'name_required' end,
            live and action <> 'deactivate', n > 1,
            student_id, stored_name, creates,
            live and not folded and not creates and name is not null
              and name is distinct from coalesce(names_before[array_upper(names_before, 1)], stored_name),
            case when not creates then coalesce(names_before[array_upper(names_before, 1)], stored_name) end,
            course_id, enrollment_id, stored_active, stored_source,
            case when not live or folded then null
                 when action <> 'deactivate' then case when not exists_before then 'created' when not active_before then 'activated' end
                 when exists_before and active_before then 'deactivated' end,
            case when live and not folded and action = 'set' then others else '{}' end,
            last_on_pair, final_active, live and not folded and takes_source
       from g ${part === null ? 'order by part, line' : ''}`,
    [which],
  );
  if (part === null) {
    await client.query('set local enable_nestloop = on');
    // A fresh table's statistics: the parts' statements join it with the roster.
    await client.query(`analyze ${t.plan}`);
  }
}

/** What the planned rows of `parts` (every part when null) do, in the counters of CONTRACT §4; folded rows are counted by the fold. */
export type PlanSummary = { counts: Counts; nameRequiredLines: number[] };

export async function summarizePlan(client: pg.ClientBase, t: WorkTables, parts: number[] | null): Promise<PlanSummary> {
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
            coalesce(array_agg(line order by line) filter (where kind = 'name_required'), '{}') as name_required_lines
       from ${t.plan} where $1::int4[] is null or part = any($1)`,
    [parts],
  );
  const row = rows[0]!;
  const counts = zeroCounts();
  for (const key of Object.keys(counts) as Array<keyof Counts>) counts[key] = Number(row[key] ?? 0);
  return { counts, nameRequiredLines: row.name_required_lines };
}

/**
 * Creates the courses the planned rows would create (of `parts`, or all), each named as the first
 * row that creates it (in file order) names it, ids in that order (the parts look them up by name).
 * A `set`/`add` row creates its course unless it fails (`applies`).
 */
export async function createPlannedCourses(client: pg.ClientBase, t: WorkTables, parts: number[] | null): Promise<void> {
  await client.query(
    `insert into courses (name)
     select course from (select distinct on (ck) ck, course, line from ${t.plan}
                          where course_id is null and applies and ($1::int4[] is null or part = any($1)) order by ck, line) first
      order by line
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
 * How much writing each part's plan holds: rows that create or change something, or that take an
 * enrollment over for the import's source, or that the domain folds. A part without any is only
 * counted; parts are grouped so that each transaction writes about the same.
 */
export async function partWork(client: pg.ClientBase, t: WorkTables, source: string | null): Promise<Array<{ part: number; rows: number; work: number }>> {
  const { rows } = await client.query<{ part: number; rows: string; work: string }>(
    `select p.part, count(*) as rows,
            count(*) filter (where p.kind = 'folded' or p.creates or p.renames or p.effect is not null or cardinality(p.others) > 0
                               or (p.takes_source and p.last_on_pair and p.enrollment_id is not null and p.stored_source is distinct from $1)) as work
       from ${t.plan} p group by p.part order by p.part`,
    [source],
  );
  return rows.map((r) => ({ part: r.part, rows: Number(r.rows), work: Number(r.work) }));
}
