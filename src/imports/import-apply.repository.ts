import type pg from 'pg';
import { byKeyProbes } from '../db/key-probes.js';
import type { WorkTables } from './import-work.repository.js';

/**
 * Writes some parts of a planned import (import-plan.repository.ts), inside the caller's apply
 * transaction: the new students (ids in line order), renames, the new enrollments and the
 * flips of existing ones, and the history of each (CONTRACT §6): creations on the created rows
 * (`created_by`, `created_line`), every other change as a row of `changes`, all by a handful of
 * set-based statements. The plan of the parts must describe the database as it is now.
 */
// The plan names a student or course that did not exist yet by its folded name: looked up once written.
const STUDENT_ID = `coalesce(p.student_id, (select id from students s where lower(s.email) = p.ek))`;
const COURSE_ID = `coalesce(p.course_id, (select id from courses c where lower(c.name) = p.ck))`;

export async function applyPlannedParts(
  client: pg.ClientBase,
  t: WorkTables,
  parts: number[],
  job: { seq: number; source: string | null },
): Promise<void> {
  // New students get their ids in line order; their enrollments take the ids as they are made,
  // and the courses by a join (the plan has no id for a course created after it).
  await client.query(
    `with created as (
       insert into students (name, email, created_by, created_line)
       select name, email, $2, line from ${t.plan} where part = any($1::int4[]) and creates order by line
       returning id, lower(email) as ek)
     insert into course_enrollments (course_id, student_id, active, source, created_by, created_line)
     select coalesce(p.course_id, c.id), coalesce(p.student_id, s.id), p.final_active, $3, $2, p.line
       from ${t.plan} p left join created s using (ek) left join courses c on lower(c.name) = p.ck
      where p.part = any($1::int4[]) and p.effect = 'created' order by p.line`,
    [parts, job.seq, job.source],
  );
  await byKeyProbes(client, async () => {
    await client.query(
      `update students s set name = f.name, updated_at = now()
         from (select distinct on (ek) ${STUDENT_ID} as student_id, name from ${t.plan} p where part = any($1::int4[]) and renames order by ek, line desc) f
        where s.id = f.student_id`,
      [parts],
    );
    // Existing pairs: the last row of a pair decides its state; a source change alone is no change.
    await client.query(
      `update course_enrollments e set active = p.final_active,
              source = case when p.takes_source then $2 else e.source end,
              updated_at = case when e.active <> p.final_active then now() else e.updated_at end
         from ${t.plan} p
        where p.part = any($1::int4[]) and p.kind = 'applied' and p.last_on_pair and e.id = p.enrollment_id
          and (e.active <> p.final_active or (p.takes_source and e.source is distinct from $2))`,
      [parts, job.source],
    );
    await client.query(
      `update course_enrollments set active = false, updated_at = now()
        where active and id = any(array(select unnest(others) from ${t.plan} where part = any($1::int4[]) and cardinality(others) > 0))`,
      [parts],
    );
    await recordPlannedChanges(client, t, parts, job.seq, 'changes');
  });
}

/**
 * The changes of planned rows as rows of `changes` (of `parts`, after they were applied) or of
 * `planned_changes` (every part's, for a preview: creations included, since nothing is created).
 */
export async function recordPlannedChanges(
  client: pg.ClientBase,
  t: WorkTables,
  parts: number[] | null,
  jobSeq: number,
  table: 'changes' | 'planned_changes',
): Promise<void> {
  const preview = table === 'planned_changes';
  const creations = preview
    ? `select line, 0 as ord, 'student_created' as kind, null::int8 as student_id, null::int8 as course_id, email, null as course_name,
              null as before, name as after from ${t.plan} where creates and ($1::int4[] is null or part = any($1))
       union all`
    : '';
  const effects = preview ? `effect is not null` : `effect in ('activated', 'deactivated')`;
  const studentId = preview ? 'p.student_id' : STUDENT_ID;
  const courseId = preview ? 'p.course_id' : COURSE_ID;
  // A preview names what would be created by its email and course name (it has no ids), as the
  // row that would create it writes them, like the rows it would create.
  const email = preview ? 'case when p.student_id is null then p.first_email end' : 'null';
  const courseName = preview ? 'case when p.course_id is null then p.first_course end' : 'null';
  const plan = preview
    ? `(select q.*, first_value(q.email) over (partition by q.ek order by not q.creates, q.line) as first_email,
               first_value(q.course) over (partition by q.ck order by not q.applies, q.line) as first_course
          from ${t.plan} q)`
    : t.plan;
  await client.query(
    `insert into ${table} (job_seq, kind, student_id, course_id, email, course_name, before, after, line, ord)
     select $2, kind, student_id, course_id, email, course_name, before, after, line, ord from (
       ${creations}
       select line, 1 as ord, 'student_renamed' as kind, ${studentId} as student_id, null::int8 as course_id,
              ${email} as email, null as course_name, name_before as before, name as after
         from ${plan} p where renames and ($1::int4[] is null or part = any($1))
       union all
       select line, 3, 'enrollment_' || effect, ${studentId}, ${courseId},
              ${email}, ${courseName},
              case effect when 'created' then null when 'activated' then 'false' else 'true' end,
              case effect when 'deactivated' then 'false' else 'true' end
         from ${plan} p where ${effects} and ($1::int4[] is null or part = any($1))
       union all
       select p.line, 4, 'enrollment_deactivated', e.student_id, e.course_id, null, null, 'true', 'false'
         from ${t.plan} p cross join unnest(p.others) as o(id) join course_enrollments e on e.id = o.id
        where cardinality(p.others) > 0 and ($1::int4[] is null or p.part = any($1))
     ) x order by line, ord`,
    [parts, jobSeq],
  );
}
