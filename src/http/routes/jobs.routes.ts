import { Hono } from 'hono';
import { createMiddleware } from 'hono/factory';
import { z } from 'zod';
import { csvLine } from '../../downloads/csv-line.js';
import { pullStream } from '../../downloads/pull-stream.js';
import type { Deps } from '../../process/deps.js';
import { AppError } from '../errors.js';
import { requestCancel } from '../../jobs/job-finish.repository.js';
import { isJobId, JOB_STATUSES, JOB_TYPES } from '../../jobs/job.model.js';
import { findJob, listJobErrors, listJobs } from '../../jobs/job.repository.js';
import type { AppEnv } from '../context.js';
import { encodeCursor, encodeKeyPair, keyPairCursorParam, limitParam, pageParams, parseParams } from '../pagination.js';

const ERROR_COLUMNS = ['line', 'column', 'code', 'message', 'value'] as const;
const CSV_PAGE = 5_000;

export const errorsQuery = z.object({ cursor: keyPairCursorParam, limit: limitParam, format: z.enum(['json', 'csv']).optional() });

export const jobListQuery = z.object({
  ...pageParams,
  type: z.enum(JOB_TYPES).optional(),
  status: z.enum(JOB_STATUSES).optional(),
});

/** The request line of a request about one job carries its id (request-log). */
export const logJobId = createMiddleware<AppEnv>(async (c, next) => {
  c.set('jobId', c.req.param('id'));
  await next();
});

/**
 * `GET /jobs` (newest first, for dashboards), `GET /jobs/{id}`, `GET /jobs/{id}/errors` (JSON
 * pages or the whole CSV), `POST /jobs/{id}/cancel`.
 */
export function jobRoutes(deps: Deps) {
  const jobOr404 = async (id: string) => {
    const job = isJobId(id) ? await findJob(deps.orm, id) : null;
    if (!job) throw new AppError('not_found', `no job ${id}`);
    return job;
  };

  return new Hono<AppEnv>()
    .use('/jobs/:id', logJobId)
    .use('/jobs/:id/*', logJobId)
    .get('/jobs', async (c) => {
      const q = parseParams(jobListQuery, c.req.query());
      const page = await listJobs(deps.orm, { beforeSeq: q.cursor, limit: q.limit, type: q.type, status: q.status });
      return c.json({ items: page.items, next_cursor: page.nextBeforeSeq === null ? null : encodeCursor(page.nextBeforeSeq) });
    })
    .get('/jobs/:id', async (c) => c.json(await jobOr404(c.req.param('id'))))
    .get('/jobs/:id/errors', async (c) => {
      const job = await jobOr404(c.req.param('id'));
      const q = parseParams(errorsQuery, c.req.query());
      const wantsCsv = q.format === 'csv' || (q.format === undefined && /text\/csv/.test(c.req.header('accept') ?? ''));
      if (wantsCsv) {
        const body = pullStream('job errors download', c.var.log, async (write) => {
          await write(csvLine([...ERROR_COLUMNS]));
          for (let after: [number, number] = [0, 0], more = true; more; ) {
            const page = await listJobErrors(deps.orm, job.id, after, CSV_PAGE);
            if (page.items.length) await write(page.items.map((e) => csvLine(ERROR_COLUMNS.map((k) => e[k]))).join(''));
            const last = page.items.at(-1);
            if (last) after = [last.line ?? 0, last.seq];
            more = page.more;
          }
        });
        return c.body(body, 200, {
          'Content-Type': 'text/csv; charset=utf-8',
          'Content-Disposition': `attachment; filename="job-${job.id}-errors.csv"`,
        });
      }
      const page = await listJobErrors(deps.orm, job.id, q.cursor, q.limit);
      return c.json({
        items: page.items.map(({ line, column, code, message, value }) => ({ line, column, code, message, value })),
        next_cursor: page.more ? encodeKeyPair(page.items.at(-1)!.line ?? 0, page.items.at(-1)!.seq) : null,
      });
    })
    .post('/jobs/:id/cancel', async (c) => {
      const id = c.req.param('id');
      const status = isJobId(id) ? await requestCancel(deps.orm, id) : null;
      if (!status) throw new AppError('not_found', `no job ${id}`);
      if (status !== 'cancelled' && status !== 'running') {
        throw new AppError('conflict', `job ${id} has already finished (${status})`, await findJob(deps.orm, id));
      }
      return c.json(await findJob(deps.orm, id), 202);
    });
}
