import { execFile } from 'node:child_process';
import type { Orm } from '../../src/db/orm.js';
import { TEST_DATABASE_URL } from './env.js';

/** Helpers of the legacy tools' tests: the legacy tables, their fixture, and the two commands. */

export type EnrollmentRow = { course_id: string; student_id: string; active: boolean; updated_at: string };

/** The legacy tables and their fixture on the ORM `orm()` gives (asked at each call: files connect in beforeAll). */
export function legacyDatabase(orm: () => Orm) {
  const sql = <T = Record<string, unknown>>(q: string, params: unknown[] = []) => orm().em.getConnection().execute<T[]>(q, params);
  const dropLegacyTables = () => sql('drop table if exists group_members, groups');
  return {
    sql,
    dropLegacyTables,

    /** Legacy tables as old installations have them; no foreign keys, so orphans can be staged. */
    async createLegacyTables(): Promise<void> {
      await dropLegacyTables();
      await sql(`create table groups (id bigint primary key, course_id bigint, name text, team_number int)`);
      await sql(`create table group_members (id bigint primary key, group_id bigint, student_id bigint, active boolean)`);
    },

    /**
     * Courses 1-4, students 1-6 (ids restart at 1 after truncateAll). Active legacy pairs:
     * (1,1) (2,1) (1,2) (2,3) (3,4) (1,6) and the orphan (1,9999). Already covered: (2,3).
     * (3,4) has an inactive enrollment to reactivate. Student 5 has only inactive memberships, student 3
     * an inactive one in course 1; (4,6) active and (4,2) inactive are not legacy pairs.
     */
    async seedFixture(): Promise<void> {
      await sql(`insert into courses (name) values ('Physics 201'), ('Chemistry 110'), ('Art 100'), ('History 150')`);
      await sql(`insert into students (name, email)
        select 'Student ' || i, 's' || i || '@uni.edu' from generate_series(1, 6) i`);
      await sql(`insert into course_enrollments (course_id, student_id, active)
        values (2, 3, true), (3, 4, false), (4, 6, true), (4, 2, false)`);
      await sql(`insert into groups values (1, 1, 'Physics A', 1), (2, 1, 'Physics B', 2), (3, 2, 'Chem A', 1),
        (4, 3, 'Art A', 1), (5, null, 'Unassigned', null)`);
      await sql(`insert into group_members values (1, 1, 1, true), (2, 3, 1, true), (3, 1, 2, true), (4, 2, 2, true),
        (5, 3, 3, true), (6, 4, 4, true), (7, 2, 6, true), (8, 1, 5, false), (9, 4, 5, false), (10, 1, 9999, true),
        (11, 5, 1, true), (12, 1, 3, false)`);
    },

    /** Every enrollment, in (course, student) order. */
    enrollments: () => sql<EnrollmentRow>(`select course_id, student_id, active, updated_at from course_enrollments order by course_id, student_id`),

    /** Both legacy tables, whole. */
    legacySnapshot: async () => [await sql(`select * from groups order by id`), await sql(`select * from group_members order by id`)],
  };
}

/** Spawning tsx takes seconds on a busy machine; the CLI tests get more room than the default. */
export const CLI_TIMEOUT = 90_000;

/** Runs a real CLI entry point (`src/cli/<script>.ts`) against the test database. */
export function runCli(script: string, args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      'node_modules/.bin/tsx',
      [`src/cli/${script}.ts`, ...args],
      { env: { ...process.env, DATABASE_URL: TEST_DATABASE_URL, LOG_LEVEL: 'silent', ...env } },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code) : 0, stdout, stderr }),
    );
  });
}
