import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { App } from '../src/http/app.js';
import type { Deps } from '../src/process/deps.js';
import { closeWorkers, startWorkers } from '../workers/index.js';
import type { RunningWorker } from '../workers/running-worker.js';
import { truncateAll } from './support/deps.js';
import { applyWrite, send, waitForJob } from './support/jobs.js';
import { createTestService, type TestService } from './support/service.js';

/** CONTRACT §4 Jobs: reading, listing and cancelling jobs. */

let service: TestService;
let api: Deps;
let workerDeps: Deps;
let workers: RunningWorker[];
let app: App;

beforeAll(async () => {
  service = await createTestService();
  ({ api, workerDeps, app } = service);
  workers = await startWorkers(workerDeps);
});
afterAll(async () => {
  await closeWorkers(workers);
  await service.close();
});
beforeEach(() => truncateAll(api));

const sql = <T = any>(q: string, params: unknown[] = []) => api.orm.em.getConnection().execute<T[]>(q, params);

describe('jobs', () => {
  it('an unknown job is 404; a finished job cannot be cancelled', async () => {
    const missing = await app.request('/api/v1/jobs/00000000-0000-4000-8000-000000000000', { headers: { Authorization: 'Bearer test-read-token-0123456789' } });
    expect(missing.status).toBe(404);
    expect((await app.request('/api/v1/jobs/not-a-uuid', { headers: { Authorization: 'Bearer test-read-token-0123456789' } })).status).toBe(404);
    const job = await applyWrite(app, 'POST', '/admin/enrollments', { email: 'a@x.edu', name: 'A', course_name: 'Art' });
    expect((await send(app, 'POST', `/jobs/${job.id}/cancel`, {})).status).toBe(409);
  });

  it('polls arriving together (read in one query) each get their own job, whatever the letter case', async () => {
    const first = await applyWrite(app, 'POST', '/admin/enrollments', { email: 'a@x.edu', name: 'A', course_name: 'Art' });
    const second = await applyWrite(app, 'POST', '/admin/enrollments', { email: 'b@x.edu', name: 'B', course_name: 'Art' });
    const read = { Authorization: 'Bearer test-read-token-0123456789' };
    const ids = [first.id, second.id.toUpperCase(), '00000000-0000-4000-8000-000000000000', first.id];
    const answers = await Promise.all(ids.map((id) => app.request(`/api/v1/jobs/${id}`, { headers: read })));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 404, 200]);
    const [a, b, , again] = await Promise.all(answers.map((r) => r.json()));
    expect([a.id, b.id, again.id]).toEqual([first.id, second.id, first.id]);
    expect(b).toEqual(second);
  });

  it('GET /jobs lists the newest first, filters by type and status, and paginates', async () => {
    const first = await applyWrite(app, 'POST', '/admin/enrollments', { email: 'a@x.edu', name: 'A', course_name: 'Art' });
    const second = await applyWrite(app, 'POST', '/admin/enrollments/batch', { commands: [{ email: 'b@x.edu', name: 'B', course_name: 'Art' }] });
    const third = await applyWrite(app, 'POST', '/admin/enrollments', { email: 'new@x.edu', course_name: 'Art' });
    const read = { Authorization: 'Bearer test-read-token-0123456789' };
    const list = async (query: string) => (await app.request(`/api/v1/jobs${query}`, { headers: read })).json();
    expect((await list('')).items.map((j: { id: string }) => j.id)).toEqual([third.id, second.id, first.id]);
    expect((await list('?type=batch')).items).toEqual([expect.objectContaining({ id: second.id, type: 'batch' })]);
    expect((await list('?status=failed')).items).toEqual([expect.objectContaining({ id: third.id })]);
    const page1 = await list('?limit=2');
    expect(page1.items.map((j: { id: string }) => j.id)).toEqual([third.id, second.id]);
    const page2 = await list(`?limit=2&cursor=${page1.next_cursor}`);
    expect(page2).toEqual({ items: [expect.objectContaining({ id: first.id })], next_cursor: null });
    expect((await app.request('/api/v1/jobs?status=done', { headers: read })).status).toBe(400);
  });

  it('a queued job cancelled before a worker takes it is never applied', async () => {
    await Promise.all(workers.map((w) => w.close()));
    const res = await send(app, 'POST', '/admin/enrollments', { email: 'a@x.edu', name: 'A', course_name: 'Art' });
    const cancelled = await send(app, 'POST', `/jobs/${res.body.job_id}/cancel`, {});
    expect(cancelled).toMatchObject({ status: 202, body: { status: 'cancelled' } });
    workers = await startWorkers(workerDeps);
    const other = await applyWrite(app, 'POST', '/admin/enrollments', { email: 'b@x.edu', name: 'B', course_name: 'Art' });
    expect(other.status).toBe('completed');
    expect((await waitForJob(app, res.body.job_id)).status).toBe('cancelled');
    expect(await sql(`select * from students where email = 'a@x.edu'`)).toHaveLength(0);
  });
});
