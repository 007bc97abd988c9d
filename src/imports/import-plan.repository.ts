import type pg from 'pg';
import copyStreams from 'pg-copy-streams';
import { zeroCounts, type Counts } from '../domain/counts.js';
import type { EnrollmentCommand } from '../domain/enrollment.js';

/**
 * The set-based half of an import batch (CONTRACT §2), inside the caller's apply transaction.
 * The batch's valid rows are COPYed into a temporary table; PostgreSQL compares them with the
 * roster and writes only what changes, so a row that changes nothing costs no round trip and no
 * JavaScript object. Rows are independent when their student appears once in the batch: imports
 * never change an email, so one student's rows cannot affect another's, except through the
 * courses they create, which are created first, for the whole batch, as the rows in file order
 * would create them. Rows of a student named several times in the batch are left to the caller
 * (`PlanSummary.sharedLines`), which folds them one by one.
 *
 * Lookups in the big tables are per-row index probes (LATERAL or a scalar subquery), not joins:
 * a bulk import grows the tables faster than their statistics follow, and a join planned on
 * stale statistics can scan a million rows per batch. New students take their ids from the
 * sequence in the plan, so that their rows need no second pass.
 */

/**
 * COPYs a staged batch's text into `import_stage`. The batch tables are created once per
 * transaction (dropped at commit) and emptied after each batch (`clearImportPlan`): a dry run
 * applies all its batches in one transaction, and creating and dropping tables per batch would
 * pile up its locks until the lock table is full.
 */
export async function stageRows(client: pg.ClientBase, copyText: string): Promise<void> {
  await client.query(`
    create temp table if not exists import_stage (
      line int4 not null, email text not null, name text, course text not null, action text not null) on commit drop;
    create temp table if not exists import_plan (
      line int4 not null, email text not null, name text, course text not null, action text not null, ek text not null,
      shared boolean not null, student_id int8, stored_name text, new_student_id int8, course_id int8,
      enrollment_id int8, enrollment_active boolean, other_active_ids int8[] not null) on commit drop`);
  await new Promise<void>((resolve, reject) => {
    const stream = client.query(copyStreams.from('copy import_stage from stdin'));
    stream.on('finish', resolve);
    stream.on('error', reject);
    stream.end(copyText);
  });
}

/** The staged rows of some lines as commands, in file order (for the rows the caller folds one by one). */
export async function stagedCommands(client: pg.ClientBase, lines: readonly number[]): Promise<Array<{ line: number; command: EnrollmentCommand }>> {
  const { rows } = await client.query<[number, string, string | null, string, EnrollmentCommand['action']]>({
    text: `select line, email, name, course, action from import_stage where line = any($1::int4[]) order by line`,
    values: [lines],
    rowMode: 'array',
  });
  return rows.map(([line, email, name, courseName, action]) => ({
    line,
    command: name === null ? { student: { email }, courseName, action } : { student: { email }, courseName, action, name },
  }));
}

/**
 * Builds `import_plan`: each staged row with what the database holds for it — its student, its
 * course, its enrollment in that course and the student's other active enrollments — and
 * whether its student is `shared` with other rows of the batch. A course that does not exist
 * yet has a null `course_id` (`createMissingCourses` fills it in): the row's enrollment in it
 * is then new, and every active enrollment of the student is an "other" one. An unshared row
 * that creates its student gets the new student's id from the sequence here (`new_student_id`),
 * so that neither the student's insert nor its enrollment's needs a second pass over the plan.
 */
export async function planRows(client: pg.ClientBase): Promise<void> {
  // Each key is folded once; each distinct course is looked up once, not once per row.
  await client.query(`
    insert into import_plan
    with b as (select line, email, name, course, action, lower(email) as ek, lower(course) as ck from import_stage),
         c as materialized (select ck, (select id from courses where lower(name) = d.ck limit 1) as id from (select distinct ck from b) d),
         shared as (select ek from b group by ek having count(*) > 1)
    select b.line, b.email, b.name, b.course, b.action, b.ek, shared.ek is not null as shared,
           s.id as student_id, s.name as stored_name,
           case when s.id is null and shared.ek is null and b.action <> 'deactivate' and b.name is not null
                then nextval((select pg_get_serial_sequence('students', 'id')::regclass)) end as new_student_id,
           c.id as course_id,
           e.enrollment_id, e.enrollment_active, e.other_active_ids
      from b
      join c using (ck)
      left join shared using (ek)
      left join lateral (select id, name from students where lower(email) = b.ek limit 1) s on true
      left join lateral (
        select max(id) filter (where course_id = c.id) as enrollment_id,
               bool_or(active) filter (where course_id = c.id) as enrollment_active,
               coalesce(array_agg(id) filter (where active and course_id is distinct from c.id), '{}') as other_active_ids
          from course_enrollments where student_id = s.id) e on true`);
}

/** What the plan says before anything is written. */
export type PlanSummary = {
  /** What the unshared rows do (CONTRACT §2 for one row against the database). */
  counts: Counts;
  /** Unshared rows that fail: they would create a student without a name. */
  nameRequiredLines: number[];
  /** Rows whose student appears more than once in the batch: the caller folds them in file order. */
  sharedLines: number[];
  /** Some `set`/`add` row names a course that does not exist yet. */
  missingCourses: boolean;
};

/** Reads the plan's summary. */
export async function summarizePlan(client: pg.ClientBase): Promise<PlanSummary> {
  const { rows } = await client.query<
    Record<keyof Counts, string> & { name_required_lines: number[]; shared_lines: number[]; missing_courses: boolean }
  >(`
    with r as (
      select line, not (student_id is null and action <> 'deactivate' and name is null) as ok,
             (student_id is null and action <> 'deactivate' and name is not null)::int as students_created,
             (student_id is not null and name is not null and name <> stored_name)::int as students_updated,
             (student_id is not null or name is not null) and action <> 'deactivate' and enrollment_id is null as enrollment_created,
             action <> 'deactivate' and enrollment_active is false as enrollment_activated,
             case action when 'deactivate' then coalesce(enrollment_active, false)::int
                         when 'set' then cardinality(other_active_ids) else 0 end as enrollments_deactivated
        from import_plan where not shared)
    select count(*) as rows, count(*) filter (where ok) as valid, count(*) filter (where not ok) as invalid,
           coalesce(sum(students_created), 0) as students_created, coalesce(sum(students_updated), 0) as students_updated,
           count(*) filter (where enrollment_created) as enrollments_created,
           count(*) filter (where enrollment_activated) as enrollments_activated,
           coalesce(sum(enrollments_deactivated), 0) as enrollments_deactivated,
           count(*) filter (where ok and students_created + students_updated + enrollments_deactivated = 0
                              and not enrollment_created and not enrollment_activated) as unchanged,
           coalesce(array_agg(line order by line) filter (where not ok), '{}') as name_required_lines,
           array(select line from import_plan where shared) as shared_lines,
           exists (select 1 from import_plan where course_id is null and action <> 'deactivate') as missing_courses
      from r`);
  const row = rows[0]!;
  const counts = zeroCounts();
  for (const key of Object.keys(counts) as Array<keyof Counts>) counts[key] = Number(row[key]);
  return { counts, nameRequiredLines: row.name_required_lines, sharedLines: row.shared_lines, missingCourses: row.missing_courses };
}

/**
 * Creates the courses the batch's rows would create, each named as the first row that creates it
 * (in file order) names it, and fills in their ids in the plan. A `set`/`add` row creates its
 * course unless it fails, and it fails only when its student is new and no name has arrived
 * yet: neither in the database nor on an earlier row of the batch for the same student.
 */
export async function createMissingCourses(client: pg.ClientBase): Promise<void> {
  // Ids in the order of the first creating lines, as one-by-one application would give them.
  await client.query(`
    with named as (
      select ek, min(line) as first_line from import_plan where action <> 'deactivate' and name is not null group by ek),
    creating as (
      select distinct on (lower(b.course)) b.course, b.line
        from import_plan b left join named on named.ek = b.ek
       where b.course_id is null and b.action <> 'deactivate'
         and (b.name is not null or b.student_id is not null or named.first_line < b.line)
       order by lower(b.course), b.line)
    insert into courses (name) select course from creating order by line`);
  await client.query(`
    update import_plan p set course_id = (select id from courses c where lower(c.name) = lower(p.course) limit 1)
     where course_id is null`);
}

/** Writes what the unshared rows change: new students and enrollments, renames, `active` flips. */
export async function writeUnsharedRows(client: pg.ClientBase, counts: Counts): Promise<void> {
  if (counts.students_updated) {
    await client.query(`
      update students s set name = p.name, updated_at = now()
        from import_plan p
       where not p.shared and s.id = p.student_id and p.name is not null and p.name <> p.stored_name`);
  }
  if (counts.students_created) {
    await client.query(`
      insert into students (id, name, email) select new_student_id, name, email from import_plan
       where new_student_id is not null order by line`);
  }
  if (counts.enrollments_created) {
    // In index order: the unique (course_id, student_id) and course_id indexes fill page by page.
    await client.query(`
      insert into course_enrollments (course_id, student_id, active)
      select course_id, coalesce(student_id, new_student_id), true from import_plan
       where not shared and action <> 'deactivate' and enrollment_id is null and coalesce(student_id, new_student_id) is not null
       order by 1, 2`);
  }
  if (counts.enrollments_activated) {
    await client.query(`
      update course_enrollments set active = true, updated_at = now()
       where id = any(array(select enrollment_id from import_plan
                             where not shared and action <> 'deactivate' and enrollment_active is false))`);
  }
  if (counts.enrollments_deactivated) {
    await client.query(`
      update course_enrollments set active = false, updated_at = now()
       where id = any(array(select enrollment_id from import_plan where not shared and action = 'deactivate' and enrollment_active
                            union all
                            select unnest(other_active_ids) from import_plan where not shared and action = 'set'))`);
  }
}

/** Empties the batch tables for the next batch of the same transaction. */
export async function clearImportPlan(client: pg.ClientBase): Promise<void> {
  await client.query(`truncate import_stage, import_plan`);
}
