import type { Deps } from '../../src/process/deps.js';

/** The enrollment tables, keyed by natural keys, in a canonical order (ids left out). */
export async function rosterSnapshot(deps: Pick<Deps, 'orm'>) {
  const conn = deps.orm.em.getConnection();
  const students = await conn.execute(`select name, email from students order by lower(email)`);
  const courses = await conn.execute(`select name from courses order by lower(name)`);
  const enrollments = await conn.execute(
    `select lower(s.email) as email, lower(c.name) as course, e.active from course_enrollments e
       join students s on s.id = e.student_id join courses c on c.id = e.course_id order by 1, 2`,
  );
  return { students, courses, enrollments };
}

/** The names of the courses a student (by email, any letter case) is active in, sorted. */
export async function activeCoursesOf(deps: Pick<Deps, 'orm'>, email: string): Promise<string[]> {
  const rows = await deps.orm.em.getConnection().execute<Array<{ name: string }>>(
    `select c.name from course_enrollments e join courses c on c.id = e.course_id join students s on s.id = e.student_id
      where lower(s.email) = lower(?) and e.active order by c.name`,
    [email],
  );
  return rows.map((r) => r.name);
}
