import type pg from 'pg';
import {
  addStoredEnrollment,
  addStoredStudent,
  addStoredCourse,
  emptyRoster,
  type EnrollmentCommand,
  type EnrollmentState,
  type Roster,
} from '../domain/enrollment.js';

/**
 * Loads and writes the part of the database a batch of commands touches, with a handful of
 * set-based statements per batch (never one per row). Callers hold the apply lock and a
 * transaction around load → apply → write, so the roster cannot go stale in between.
 */

/** Every student the commands name (by email, new email or id), all their enrollments, and the named courses. */
export async function loadRoster(client: pg.ClientBase, commands: Iterable<EnrollmentCommand>): Promise<Roster> {
  const texts = new Set<string>();
  const ids = new Set<number>();
  for (const cmd of commands) {
    if ('id' in cmd.student) ids.add(cmd.student.id);
    else texts.add(cmd.student.email);
    if (cmd.newEmail) texts.add(cmd.newEmail);
    if (cmd.courseName !== undefined) texts.add(cmd.courseName);
  }
  // Keys are folded by PostgreSQL's lower(), the function of the unique indexes, never by JS.
  // A text of ASCII characters without capitals is its own fold in every locale and is not sent;
  // of the others, only those lower() changes come back (by position).
  const folds = new Map<string, string>();
  const textList: string[] = [];
  for (const t of texts) {
    folds.set(t, t);
    if (MAY_FOLD.test(t)) textList.push(t);
  }
  if (textList.length) {
    const folded = await client.query<[number, string]>({
      text: `select i::int4, k from (select i, t, lower(t) as k from unnest($1::text[]) with ordinality as u(t, i)) f where k <> t`,
      values: [textList],
      rowMode: 'array',
    });
    for (const [i, k] of folded.rows) folds.set(textList[i - 1]!, k);
  }
  const roster = emptyRoster((text) => folds.get(text) ?? text.toLowerCase());
  const emails = new Set<string>();
  const courseKeys = new Set<string>();
  for (const cmd of commands) {
    if (!('id' in cmd.student)) emails.add(roster.fold(cmd.student.email));
    if (cmd.newEmail) emails.add(roster.fold(cmd.newEmail));
    if (cmd.courseName !== undefined) courseKeys.add(roster.fold(cmd.courseName));
  }

  // The students and all their enrollments in one statement: one index probe per key, in key
  // order. LATERAL (with LIMIT/OFFSET, so that it is not flattened into a join) keeps the planner
  // from choosing a whole-table scan filtered against thousands of keys: with the stale statistics
  // of a table that just grew by a bulk load it estimates that cheaper, and at a million rows it
  // costs ~10x more. One row per enrollment (a student without any: one row of nulls); folds come
  // back only where lower() changes the text.
  const loaded = await client.query<StudentEnrollmentRow>({
    text: `with s as (
             select s.id, s.name, s.email from (select email from unnest($1::text[]) as u(email) order by email collate "C") as k
               cross join lateral (select id, name, email from students where lower(email) = k.email limit 1) s
             union
             select s.id, s.name, s.email from unnest($2::bigint[]) as k(id)
               cross join lateral (select id, name, email from students where id = k.id limit 1) s)
           select s.id, s.name, s.email, nullif(lower(s.email), s.email), e.id, e.course_id, e.active, c.name, nullif(lower(c.name), c.name), e.source
             from s
             left join lateral (select id, course_id, active, source from course_enrollments where student_id = s.id offset 0) e on true
             left join courses c on c.id = e.course_id`,
    values: [[...emails], [...ids]],
    rowMode: 'array',
  });
  for (const [sid, name, email, emailKey, eid, courseId, active, courseName, courseKey, source] of loaded.rows) {
    const studentId = Number(sid);
    if (!roster.studentsById.has(studentId)) {
      folds.set(email, emailKey ?? email);
      addStoredStudent(roster, { id: studentId, name, email });
    }
    if (eid === null) continue;
    folds.set(courseName!, courseKey ?? courseName!);
    addStoredEnrollment(roster, { id: Number(eid), studentId, courseId: Number(courseId), courseName: courseName!, active: active!, source });
  }

  const missingCourses = [...courseKeys].filter((k) => !roster.courses.has(k));
  if (missingCourses.length) {
    const courses = await client.query<[string, string, string | null]>({
      text: `select id, name, nullif(lower(name), name) from courses where lower(name) = any($1::text[])`,
      values: [missingCourses],
      rowMode: 'array',
    });
    for (const [id, name, key] of courses.rows) {
      folds.set(name, key ?? name);
      addStoredCourse(roster, { id: Number(id), name });
    }
  }
  return roster;
}

/** Capitals or non-ASCII: lower() may change the text. */
const MAY_FOLD = /[A-Z\u0080-\uffff]/;

/** student id, name, email, lower(email) if it differs, then the enrollment (nulls when none): id, course id, active, course name, lower(name) if it differs, source. */
type StudentEnrollmentRow = [string, string, string, string | null, string | null, string | null, boolean | null, string | null, string | null, string | null];

/**
 * Writes what the roster changed: new courses and students (ids filled in, with the job and line
 * that created them), renamed students, new enrollments, and enrollments whose `active` or source
 * changed. Unchanged rows are not written.
 * `enrollmentIds: false` (imports, which never look at them) leaves the ids of new enrollments
 * unread: the roster must then not be written again.
 */
export async function writeRoster(client: pg.ClientBase, roster: Roster, opts: { enrollmentIds?: boolean } = {}): Promise<void> {
  const newCourses = [...roster.courses.values()].filter((c) => c.id === null);
  if (newCourses.length) {
    const { rows } = await client.query<{ id: string; name: string }>(
      `insert into courses (name) select * from unnest($1::text[]) returning id, name`,
      [newCourses.map((c) => c.name)],
    );
    const byName = new Map(rows.map((r) => [r.name, Number(r.id)]));
    for (const c of newCourses) c.id = byName.get(c.name)!;
  }

  const students = [...roster.enrollmentsByStudent.keys()];
  const created = students.filter((s) => s.stored === null);
  if (created.length) {
    const { rows } = await client.query<{ id: string; email: string }>(
      `insert into students (name, email, created_by, created_line)
       select * from unnest($1::text[], $2::text[], $3::bigint[], $4::int[]) returning id, email`,
      [created.map((s) => s.name), created.map((s) => s.email), created.map((s) => s.created?.job ?? null), created.map((s) => s.created?.line ?? null)],
    );
    const byEmail = new Map(rows.map((r) => [r.email, Number(r.id)]));
    for (const s of created) s.id = byEmail.get(s.email)!;
  }

  const updated = students.filter((s) => s.stored && (s.stored.name !== s.name || s.stored.email !== s.email));
  if (updated.length) {
    await client.query(
      `update students s set name = u.name, email = u.email, updated_at = now()
         from unnest($1::bigint[], $2::text[], $3::text[]) as u(id, name, email) where s.id = u.id`,
      [updated.map((s) => s.id), updated.map((s) => s.name), updated.map((s) => s.email)],
    );
  }

  const inserts: Array<{ courseId: number; studentId: number; e: EnrollmentState }> = [];
  const flips: EnrollmentState[] = [];
  for (const enrollments of roster.enrollmentsByStudent.values()) {
    for (const e of enrollments.values()) {
      if (e.storedActive === null) inserts.push({ courseId: e.course.id!, studentId: e.student.id!, e });
      else if (e.storedActive !== e.active || e.storedSource !== e.source) flips.push(e);
    }
  }
  if (inserts.length) {
    // In index order: the unique (course_id, student_id) and course_id indexes fill page by page.
    inserts.sort((a, b) => a.courseId - b.courseId || a.studentId - b.studentId);
    const ids = opts.enrollmentIds !== false;
    const { rows } = await client.query<{ id: string; course_id: string; student_id: string }>(
      `insert into course_enrollments (course_id, student_id, active, source, created_by, created_line)
       select * from unnest($1::bigint[], $2::bigint[], $3::boolean[], $4::text[], $5::bigint[], $6::int[])${ids ? ' returning id, course_id, student_id' : ''}`,
      [
        inserts.map((i) => i.courseId),
        inserts.map((i) => i.studentId),
        inserts.map((i) => i.e.active),
        inserts.map((i) => i.e.source),
        inserts.map((i) => i.e.created?.job ?? null),
        inserts.map((i) => i.e.created?.line ?? null),
      ],
    );
    if (ids) {
      const byPair = new Map(rows.map((r) => [`${r.course_id}:${r.student_id}`, Number(r.id)]));
      for (const i of inserts) i.e.id = byPair.get(`${i.courseId}:${i.studentId}`)!;
    }
  }
  if (flips.length) {
    // A source change alone is no change: updated_at moves only when `active` does.
    await client.query(
      `update course_enrollments e set active = f.active, source = f.source,
              updated_at = case when e.active <> f.active then now() else e.updated_at end
         from unnest($1::bigint[], $2::boolean[], $3::text[]) as f(id, active, source) where e.id = f.id`,
      [flips.map((f) => f.id), flips.map((f) => f.active), flips.map((f) => f.source)],
    );
  }
  markStored(roster);
}

/** After a write the roster mirrors the database again, so it can be reused for the next batch. */
function markStored(roster: Roster): void {
  for (const [student, enrollments] of roster.enrollmentsByStudent) {
    student.stored = { name: student.name, email: student.email };
    if (student.id !== null) roster.studentsById.set(student.id, student);
    for (const e of enrollments.values()) {
      e.storedActive = e.active;
      e.storedSource = e.source;
    }
  }
}
