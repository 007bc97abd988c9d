import type { Deps } from '../../src/process/deps.js';

/**
 * Seeding with plain SQL, so that tests of the reads do not depend on the write path.
 * `deps` is asked at each call, since test files connect in beforeAll.
 */
export function seeder(deps: () => Pick<Deps, 'orm'>) {
  const sql = <T>(text: string, params: unknown[] = []): Promise<T[]> => deps().orm.em.getConnection().execute(text, params);
  const idOf = (rows: Array<{ id: string }>) => Number(rows[0]!.id);
  return {
    sql,
    student: async (name: string, email: string) =>
      idOf(await sql('insert into students (name, email) values (?, ?) returning id', [name, email])),
    course: async (name: string) => idOf(await sql('insert into courses (name) values (?) returning id', [name])),
    enroll: (studentId: number, courseId: number, active: boolean, createdAt = '2026-01-01T00:00:00Z') =>
      sql('insert into course_enrollments (student_id, course_id, active, created_at) values (?, ?, ?, ?)', [studentId, courseId, active, createdAt]),
  };
}
