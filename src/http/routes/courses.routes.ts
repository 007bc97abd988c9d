import { Hono } from 'hono';
import { z } from 'zod';
import { withPgClient } from '../../db/orm.js';
import type { Deps } from '../../process/deps.js';
import { AppError } from '../errors.js';
import { findCourse, listCoursePage } from '../../courses/course.repository.js';
import { listStudentPage } from '../../students/student-read.repository.js';
import { courseExists } from '../../students/student.repository.js';
import { studentPage } from '../../students/student-view.js';
import type { AppEnv } from '../context.js';
import { booleanParam, pageOf, pageParams, pageRequestOf, parseParams, parseQuery, positiveIntString } from '../pagination.js';
import { MAX_SEARCH_LENGTH } from './students.routes.js';

export const rosterQuery = z.object({ active: booleanParam, ...pageParams });
export const courseIdParams = z.object({ id: positiveIntString });
export const courseListQuery = z.object({
  q: z
    .string()
    .transform((q) => q.trim())
    .pipe(z.string().max(MAX_SEARCH_LENGTH, `must be at most ${MAX_SEARCH_LENGTH} characters`))
    .optional()
    .meta({ description: 'A case-insensitive part of the course name (trimmed).' }),
  ...pageParams,
});

/**
 * The course reads: `GET /courses/{id}/students`, the course roster (CONTRACT §4), and, beyond the
 * contract (issue 17), `GET /courses?q=` (find a course by a part of its name) and `GET
 * /courses/{id}`, each course with its size.
 */
export function courseRoutes(deps: Pick<Deps, 'orm'>) {
  return new Hono<AppEnv>()
  .get('/courses', async (c) => {
    const query = parseQuery(courseListQuery, c.req.query());
    const rows = await withPgClient(deps.orm, (client) => listCoursePage(client, query.q, pageRequestOf(query)));
    return c.json(pageOf(rows, query.limit, (row) => row.id));
  })
  .get('/courses/:id', async (c) => {
    const { id } = parseParams(courseIdParams, c.req.param());
    const course = await withPgClient(deps.orm, (client) => findCourse(client, id));
    if (!course) throw new AppError('not_found', `no course with id ${id}`);
    return c.json(course);
  })
  .get('/courses/:id/students', async (c) => {
    const { id } = parseParams(courseIdParams, c.req.param());
    const query = parseQuery(rosterQuery, c.req.query());
    const rows = await withPgClient(deps.orm, (client) => listStudentPage(client, { kind: 'course', course: { id }, active: query.active }, pageRequestOf(query)));
    // A non-empty page proves the course exists; only an empty one needs the extra look-up.
    if (rows.length === 0 && !(await courseExists(deps.orm, id))) throw new AppError('not_found', `no course with id ${id}`);
    return c.json(studentPage(rows, query.limit));
  });
}
