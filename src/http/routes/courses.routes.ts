import { Hono } from 'hono';
import { z } from 'zod';
import { withPgClient } from '../../db/orm.js';
import type { Deps } from '../../process/deps.js';
import { AppError } from '../errors.js';
import { listStudentPage } from '../../students/student-read.repository.js';
import { courseExists } from '../../students/student.repository.js';
import { studentPage } from '../../students/student-view.js';
import type { AppEnv } from '../context.js';
import { booleanParam, pageParams, pageRequestOf, parseParams, parseQuery, positiveIntString } from '../pagination.js';

export const rosterQuery = z.object({ active: booleanParam, ...pageParams });
export const courseIdParams = z.object({ id: positiveIntString });

/** The course reads of CONTRACT §4: `GET /courses/{id}/students`, the course roster. */
export function courseRoutes(deps: Pick<Deps, 'orm'>) {
  return new Hono<AppEnv>().get('/courses/:id/students', async (c) => {
    const { id } = parseParams(courseIdParams, c.req.param());
    const query = parseQuery(rosterQuery, c.req.query());
    const rows = await withPgClient(deps.orm, (client) => listStudentPage(client, { kind: 'course', course: { id }, active: query.active }, pageRequestOf(query)));
    // A non-empty page proves the course exists; only an empty one needs the extra look-up.
    if (rows.length === 0 && !(await courseExists(deps.orm, id))) throw new AppError('not_found', `no course with id ${id}`);
    return c.json(studentPage(rows, query.limit));
  });
}
