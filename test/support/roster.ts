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

