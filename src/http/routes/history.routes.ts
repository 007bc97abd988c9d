import { Hono } from 'hono';
import { z } from 'zod';
import { csvLine } from '../../downloads/csv-line.js';
import { pullStream } from '../../downloads/pull-stream.js';
import { CHANGE_KINDS } from '../../history/change.model.js';
import {
  allJobChanges,
  decodeChangeCursor,
  decodeHistoryCursor,
  encodeChangeCursor,
  encodeHistoryCursor,
  jobChangesPage,
  START,
  studentHistoryPage,
} from '../../history/change.service.js';
import { isJobId } from '../../jobs/job.model.js';
import { findJobRef } from '../../jobs/job.repository.js';
import type { Deps } from '../../process/deps.js';
import { studentExists } from '../../students/student.repository.js';
import type { AppEnv } from '../context.js';
import { AppError } from '../errors.js';
import { limitParam, parseParams, parseQuery, positiveIntString } from '../pagination.js';
import { studentIdParams } from './students.routes.js';
import { logJobId } from './jobs.routes.js';

const CHANGE_COLUMNS = ['seq', 'kind', 'student_id', 'email', 'course_id', 'course_name', 'before', 'after', 'line'] as const;
const CSV_PAGE = 5_000;

const opaque = <T>(decode: (s: string) => T | undefined) =>
  z
    .string()
    .optional()
    .transform((cursor, ctx) => {
      if (cursor === undefined) return undefined;
      const value = decode(cursor);
      if (value === undefined) {
        ctx.addIssue({ code: 'custom', message: 'is not a cursor this API returned' });
        return z.NEVER;
      }
      return value;
    });

export const changesQuery = z.object({
  kind: z.enum(CHANGE_KINDS).optional(),
  course_id: positiveIntString.optional(),
  cursor: opaque(decodeChangeCursor),
  limit: limitParam,
  format: z.enum(['json', 'csv']).optional(),
});

export const historyQuery = z.object({ cursor: opaque(decodeHistoryCursor), limit: limitParam });

/**
 * History (CONTRACT §6): `GET /jobs/{id}/changes` (JSON pages or the whole list as CSV, in the
 * order the changes were made; a dry run's or a held sync's are what it would change) and
 * `GET /students/{id}/history` (newest first, each change with its job).
 */
export function historyRoutes(deps: Pick<Deps, 'orm'>) {
  return new Hono<AppEnv>()
    .get('/jobs/:id/changes', logJobId, async (c) => {
      const id = c.req.param('id');
      const job = isJobId(id) ? await findJobRef(deps.orm, id) : null;
      if (!job) throw new AppError('not_found', `no job ${id}`);
      const q = parseQuery(changesQuery, c.req.query());
      const filter = { kind: q.kind, courseId: q.course_id };
      const wantsCsv = q.format === 'csv' || (q.format === undefined && /text\/csv/.test(c.req.header('accept') ?? ''));
      if (wantsCsv) {
        const body = pullStream('job changes download', c.var.log, async (write) => {
          await write(csvLine([...CHANGE_COLUMNS]));
          for await (const page of allJobChanges(deps.orm, job, filter, CSV_PAGE)) {
            await write(page.map((item) => csvLine(CHANGE_COLUMNS.map((k) => item[k]))).join(''));
          }
        });
        return c.body(body, 200, {
          'Content-Type': 'text/csv; charset=utf-8',
          'Content-Disposition': `attachment; filename="job-${job.id}-changes.csv"`,
        });
      }
      const page = await jobChangesPage(deps.orm, job, q.cursor ?? START, q.limit, filter);
      return c.json({ items: page.items, next_cursor: page.next ? encodeChangeCursor(page.next) : null });
    })
    .get('/students/:id/history', async (c) => {
      const { id } = parseParams(studentIdParams, c.req.param());
      const q = parseQuery(historyQuery, c.req.query());
      if (!(await studentExists(deps.orm, id))) throw new AppError('not_found', `no student with id ${id}`);
      const page = await studentHistoryPage(deps.orm, id, q.cursor ?? null, q.limit);
      return c.json({ items: page.items, next_cursor: page.next ? encodeHistoryCursor(page.next) : null });
    });
}
