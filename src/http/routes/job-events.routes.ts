import { Hono } from 'hono';
import { streamSSE, type SSEStreamingApi } from 'hono/streaming';
import type { Deps } from '../../process/deps.js';
import { AppError, errorBody } from '../errors.js';
import { FINISHED, isJobId } from '../../jobs/job.model.js';
import { findJob } from '../../jobs/job.repository.js';
import type { JobView } from '../../jobs/job-view.js';
import type { AppEnv } from '../context.js';
import { logJobId } from './jobs.routes.js';

/**
 * How often the stream reads the job, the longest gap between `progress` events while the job
 * runs, and how long a queued job's stream may stay silent before a keepalive comment.
 */
export type JobEventTiming = { pollMs: number; runningEveryMs: number; keepaliveMs: number };
const DEFAULT_TIMING: JobEventTiming = { pollMs: 500, runningEveryMs: 1_000, keepaliveMs: 15_000 };

/**
 * `GET /jobs/{id}/events`: the job as Server-Sent Events. An event `progress` carries the job view
 * (the JSON of `GET /jobs/{id}`) at once, whenever it changes (read every `pollMs`) and, while the
 * job runs, at least once a second even without news; a comment line keeps a queued job's stream
 * open; the last event is `done` with the finished job, then the stream closes. An unknown job is
 * a plain 404 envelope. Polling stops when the client leaves.
 */
export function jobEventRoutes(
  deps: Pick<Deps, 'orm'>,
  timing: JobEventTiming = DEFAULT_TIMING,
  read: (id: string) => Promise<JobView | null> = (id) => findJob(deps.orm, id),
) {
  return new Hono<AppEnv>().get('/jobs/:id/events', logJobId, async (c) => {
    const id = c.req.param('id');
    const first = isJobId(id) ? await read(id) : null;
    if (!first) throw new AppError('not_found', `no job ${id}`);
    const log = c.var.log;
    c.header('X-Accel-Buffering', 'no'); // proxies such as nginx would otherwise hold the events back
    return streamSSE(c, async (stream) => {
      try {
        await followJob(stream, first, () => read(id), timing);
      } catch (err) {
        // The status line is long gone: say it in the stream (an `error` event), then close.
        log?.error({ err, job_id: id }, 'job event stream failed');
        if (!stream.aborted) await stream.writeSSE({ event: 'error', data: JSON.stringify(errorBody('internal', 'could not read the job')) });
      }
    });
  });
}

/** Writes `progress` events until the job has finished, then `done`; returns early if the client left. */
async function followJob(
  stream: SSEStreamingApi,
  first: JobView,
  read: () => Promise<JobView | null>,
  timing: JobEventTiming,
): Promise<void> {
  let job: JobView | null = first;
  let sent = '';
  let lastWrite = Date.now();
  let seq = 0;
  const slack = timing.runningEveryMs / 10;
  while (!stream.aborted) {
    if (!job) {
      // Removed under us (retention): nothing more will come.
      await stream.writeSSE({ event: 'error', data: JSON.stringify(errorBody('not_found', 'the job no longer exists')) });
      return;
    }
    const data = JSON.stringify(job);
    if (FINISHED.has(job.status)) {
      await stream.writeSSE({ event: 'done', data, id: String(++seq) });
      return;
    }
    // Due a little early: the next look is a poll (and a read) away, and must not land after the
    // promised interval.
    const due = job.status === 'running' && Date.now() - lastWrite >= timing.runningEveryMs - slack;
    if (data !== sent || due) {
      await stream.writeSSE({ event: 'progress', data, id: String(++seq) });
      sent = data;
      lastWrite = Date.now();
    } else if (Date.now() - lastWrite >= timing.keepaliveMs) {
      await stream.write(': keepalive\n\n');
      lastWrite = Date.now();
    }
    const untilDue = job.status === 'running' ? lastWrite + timing.runningEveryMs - slack - Date.now() : timing.pollMs;
    await stream.sleep(Math.max(0, Math.min(timing.pollMs, untilDue)));
    if (!stream.aborted) job = await read();
  }
}
