import { Hono } from 'hono';
import { z } from 'zod';
import { withPgClient } from '../../db/orm.js';
import type { Deps } from '../../process/deps.js';
import { AppError } from '../errors.js';
import { studentExportStream } from '../../students/student-export.js';
import { listStudentPage, type StudentScope } from '../../students/student-read.repository.js';
import { searchStudentPage } from '../../students/student-search.repository.js';
import { findStudent } from '../../students/student.repository.js';
import { studentPage, toStudentView } from '../../students/student-view.js';
import type { AppEnv } from '../context.js';
import { booleanParam, pageParams, pageRequestOf, parseParams, parseQuery, positiveIntString } from '../pagination.js';

/** Longest `?q=` (a name is at most 200 characters). */
export const MAX_SEARCH_LENGTH = 200;

export const studentListQuery = z.object({
  email: z.string().optional(),
  q: z
    .string()
    .transform((q) => q.trim())
    .pipe(z.string().max(MAX_SEARCH_LENGTH, `must be at most ${MAX_SEARCH_LENGTH} characters`))
    .optional()
    .meta({
      description:
        'A case-insensitive part of the name or the email (trimmed). With a part of fewer than three letters or digits in a row, a page may be short, even empty, and still have a `next_cursor`: the search read a bounded part of the students and goes on from there.',
    }),
  course_name: z.string().optional(),
  active: booleanParam,
  ...pageParams,
});

export const studentIdParams = z.object({ id: positiveIntString });

/** Exports allowed at once per API process: each holds one of the pool's 10 connections. */
export const MAX_CONCURRENT_EXPORTS = 3;

/**
 * The student reads of CONTRACT §4: the filtered, paginated list (`q`: a search), one student by id, and the
 * CSV export of every student. Mount after `GET /students/teams` (which answers 404), so that
 * `/students/:id` does not take it over.
 */
export function studentRoutes(deps: Pick<Deps, 'orm'>) {
  let exporting = 0;
  return new Hono<AppEnv>()
    .get('/students', async (c) => {
      const query = parseQuery(studentListQuery, c.req.query());
      // With a course, `active` is about the enrollment in that course; without, about any.
      const scope: StudentScope =
        query.course_name !== undefined
          ? { kind: 'course', course: { name: query.course_name }, active: query.active, email: query.email }
          : { kind: 'all', email: query.email, hasActiveEnrollment: query.active };
      const page = pageRequestOf(query);
      if (query.q !== undefined) {
        const q = query.q;
        const found = await withPgClient(deps.orm, (client) => searchStudentPage(client, scope, q, page));
        return c.json(studentPage(found.rows, query.limit, found.resumeAfter));
      }
      const rows = await withPgClient(deps.orm, (client) => listStudentPage(client, scope, page));
      return c.json(studentPage(rows, query.limit));
    })
    .get('/students/:id', async (c) => {
      const { id } = parseParams(studentIdParams, c.req.param());
      const row = await findStudent(deps.orm, id);
      if (!row) throw new AppError('not_found', `no student with id ${id}`);
      return c.json(toStudentView(row));
    })
    .get('/admin/students/export.csv', (c) => {
      // Each export holds a pooled connection for its whole download: cap them so that exports
      // can never starve the rest of the API.
      if (exporting >= MAX_CONCURRENT_EXPORTS) {
        c.header('Retry-After', '30');
        throw new AppError('unavailable', `${MAX_CONCURRENT_EXPORTS} exports are running; retry shortly`);
      }
      exporting++;
      return c.body(studentExportStream(deps.orm, c.var.log, undefined, () => exporting--), 200, {
        'Content-Type': 'text/csv; charset=utf-8',
        'Content-Disposition': 'attachment; filename="students.csv"',
        'Cache-Control': 'no-store',
      });
    });
}
