import { Hono } from 'hono';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readSse, type SseMessage } from '../src/cli/enroll/sse.js';
import type { Deps } from '../src/process/deps.js';
import type { App } from '../src/http/app.js';
import { jobEventRoutes } from '../src/http/routes/job-events.routes.js';
import { findJob } from '../src/jobs/job.repository.js';
import type { JobView } from '../src/jobs/job-view.js';
import { closeWorkers, startWorkers } from '../workers/index.js';
import type { RunningWorker } from '../workers/running-worker.js';
import { truncateAll } from './support/deps.js';
import { READER } from './support/env.js';
import { send, waitForJob } from './support/jobs.js';
import { createTestService, type TestService } from './support/service.js';
import { waitFor } from './support/wait.js';

let service: TestService;
let api: Deps;
let workerDeps: Deps;
let workers: RunningWorker[] = [];
let app: App;

beforeAll(async () => {
  service = await createTestService();
  ({ api, workerDeps, app } = service);
});
afterAll(async () => {
  await closeWorkers(workers);
  await service.close();
});
beforeEach(async () => {
  await closeWorkers(workers);
  workers = [];
  await truncateAll(api);
});

/** A batch job of 3 commands, one of them invalid (a new student without a name). */
async function acceptBatch(): Promise<string> {
  const res = await send(app, 'POST', '/admin/enrollments/batch', {
    commands: [
      { email: 'a@x.edu', name: 'A', course_name: 'Art' },
      { email: 'nobody@x.edu', course_name: 'Art' },
      { email: 'a@x.edu', course_name: 'Biology', action: 'add' },
    ],
  });
  expect(res.status).toBe(202);
  return res.body.job_id;
}

const openEvents = (jobId: string, headers: Record<string, string> = READER) => app.request(`/api/v1/jobs/${jobId}/events`, { headers });

const getJob = async (jobId: string) => (await (await app.request(`/api/v1/jobs/${jobId}`, { headers: READER })).json()) as JobView;

describe('GET /jobs/{id}/events (Server-Sent Events)', () => {
  it('sends the job as `progress` while it waits, then `done` with the final job, then closes', async () => {
    const jobId = await acceptBatch();
    const res = await openEvents(jobId);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const messages = readSse(res.body!);

    const first = (await messages.next()).value as SseMessage;
    expect(first).toMatchObject({ event: 'progress', id: '1' });
    const queued = JSON.parse((first as { data: string }).data) as JobView;
    expect(queued).toEqual(await getJob(jobId));
    expect(queued).toMatchObject({ status: 'queued', progress: { processed: 0, total: 3 } });

    workers = await startWorkers(workerDeps);
    const rest: SseMessage[] = [];
    for await (const m of messages) rest.push(m);
    const events = rest.filter((m): m is Extract<SseMessage, { event: string }> => 'event' in m);
    const done = events.at(-1)!;
    expect(done.event).toBe('done');
    expect(events.slice(0, -1).every((e) => e.event === 'progress')).toBe(true);
    const final = JSON.parse(done.data) as JobView;
    expect(final).toEqual(await getJob(jobId));
    expect(final).toMatchObject({
      status: 'completed_with_errors',
      progress: { processed: 3, total: 3, percent: 100 },
      counts: { rows: 3, valid: 2, invalid: 1, students_created: 1, enrollments_created: 2 },
    });
  });

  it('a finished job gets `done` at once', async () => {
    workers = await startWorkers(workerDeps);
    const jobId = await acceptBatch();
    await waitForJob(app, jobId);
    const res = await openEvents(jobId);
    const all: SseMessage[] = [];
    for await (const m of readSse(res.body!)) all.push(m);
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ event: 'done' });
    expect(JSON.parse((all[0] as { data: string }).data)).toEqual(await getJob(jobId));
  });

  it('an unknown job is a JSON 404 before any stream; no token is a 401', async () => {
    for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid']) {
      const res = await openEvents(id);
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toMatch(/application\/json/);
      expect(await res.json()).toEqual({ error: { code: 'not_found', message: `no job ${id}` } });
    }
    expect((await openEvents(await acceptBatch(), {})).status).toBe(401);
  });
});

describe('the event stream and its client', () => {
  it('keeps a quiet stream open with comments, and stops reading the job when the client leaves', async () => {
    const jobId = await acceptBatch(); // no workers: it stays queued
    /** A stream of the job's events whose reads of the job (the real ones) are counted in `reads`. */
    const countedStream = async (keepaliveMs: number) => {
      const counted = { reads: 0, messages: undefined as unknown as AsyncGenerator<SseMessage> };
      const read = (id: string) => (counted.reads++, findJob(api.orm, id));
      const eventsApp = new Hono().route('/', jobEventRoutes(api, { pollMs: 10, runningEveryMs: 1_000, keepaliveMs }, read));
      counted.messages = readSse((await eventsApp.request(`/jobs/${jobId}/events`)).body!);
      return counted;
    };
    const leaving = await countedStream(50);
    expect((await leaving.messages.next()).value).toMatchObject({ event: 'progress' });
    expect((await leaving.messages.next()).value).toEqual({ comment: 'keepalive' });
    expect(leaving.reads).toBeGreaterThan(2);
    // A second stream of the same job stays open: its reads count the polls the first one had the chance to make.
    const staying = await countedStream(60_000);
    try {
      expect((await staying.messages.next()).value).toMatchObject({ event: 'progress' });

      await leaving.messages.return(undefined); // cancels the body, as a disconnecting client does
      const pollsOfStaying = (n: number) => {
        const target = staying.reads + n;
        return waitFor(`${n} polls of the open stream`, () => staying.reads >= target, { timeoutMs: 10_000, everyMs: 5 });
      };
      await pollsOfStaying(5); // a read under way when the client left may still land
      const settled = leaving.reads;
      await pollsOfStaying(20); // 20 poll intervals: a live stream would read ~20 times
      expect(leaving.reads).toBe(settled);
    } finally {
      await staying.messages.return(undefined);
    }
  });

  it('sends progress at least once a second while the job runs, even without news', async () => {
    const jobId = await acceptBatch(); // no workers: we play the worker
    await api.orm.em.getConnection().execute(`update jobs set status = 'running', started_at = now() where id = ?`, [jobId]);
    const eventsApp = new Hono().route('/', jobEventRoutes(api, { pollMs: 10, runningEveryMs: 100, keepaliveMs: 60_000 }));
    const messages = readSse((await eventsApp.request(`/jobs/${jobId}/events`)).body!);
    const started = Date.now();
    for (let i = 0; i < 4; i++) expect((await messages.next()).value).toMatchObject({ event: 'progress' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    await messages.return(undefined);
  });

  it('with the default timing, no gap between events of a running job reaches a second', async () => {
    const jobId = await acceptBatch();
    await api.orm.em.getConnection().execute(`update jobs set status = 'running', started_at = now() where id = ?`, [jobId]);
    const messages = readSse((await app.request(`/api/v1/jobs/${jobId}/events`, { headers: READER })).body!);
    await messages.next();
    const gaps: number[] = [];
    for (let last = Date.now(), i = 0; i < 4; i++) {
      expect((await messages.next()).value).toMatchObject({ event: 'progress' });
      gaps.push(Date.now() - last);
      last = Date.now();
    }
    await messages.return(undefined);
    expect(Math.max(...gaps)).toBeLessThan(1_000);
    expect(Math.min(...gaps)).toBeGreaterThan(500); // at least once a second, not twice as often
  });
});
