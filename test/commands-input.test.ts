import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { App } from '../src/http/app.js';
import type { Deps } from '../src/process/deps.js';
import { closeWorkers, startWorkers } from '../workers/index.js';
import type { RunningWorker } from '../workers/running-worker.js';
import { truncateAll } from './support/deps.js';
import { ADMIN } from './support/env.js';
import { send, waitForJob } from './support/jobs.js';
import { activeCoursesOf } from './support/roster.js';
import { createTestService, type TestService } from './support/service.js';

/** CONTRACT §4: a write the API refuses (400, 413) is never accepted, in-process and over real HTTP. */

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

describe('input errors change nothing', () => {
  it.each([
    ['/admin/enrollments', { email: 'not-an-email', course_name: 'Art' }, 'email'],
    ['/admin/enrollments', { email: 'a@x.edu' }, 'course_name'],
    ['/admin/enrollments', { email: 'a@x.edu', student_id: 3, course_name: 'Art' }, 'email'],
    ['/admin/enrollments', { email: 'a@x.edu', course_name: 'Art', action: 'remove' }, 'action'],
    ['/admin/enrollments', { email: 'a@x.edu', course_name: 'Art', name: 'x'.repeat(201) }, 'name'],
    ['/admin/students', { email: 'a@x.edu', course_name: 'Art' }, 'name'],
    ['/admin/enrollments/batch', { commands: [] }, 'commands'],
    ['/admin/enrollments/batch', { commands: [{ email: 'a@x.edu', course_name: 'Art' }, { email: 'bad' }] }, 'commands.1.email'],
  ])('POST %s %j is a 400 naming %s', async (path, body, field) => {
    const res = await send(app, 'POST', path, body);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'invalid', message: expect.stringContaining(field) });
    expect(res.body.error.details).toContainEqual(expect.objectContaining({ field }));
    expect(await sql('select * from jobs')).toHaveLength(0);
  });

  it('malformed JSON is a 400 envelope', async () => {
    const res = await send(app, 'POST', '/admin/enrollments', '{"email": ');
    expect(res).toEqual({ status: 400, body: { error: { code: 'invalid', message: 'the body is not valid JSON' } } });
  });

  it('a JSON body over 16 MiB is a 413 envelope, read or not', async () => {
    const res = await send(app, 'POST', '/admin/enrollments/batch', `{"commands": [${'"x",'.repeat(4_300_000)}"x"]}`);
    expect(res).toMatchObject({ status: 413, body: { error: { code: 'too_large' } } });
    expect(await sql('select * from jobs')).toHaveLength(0);
  });

  it('a non-numeric student id is a 400', async () => {
    for (const id of ['abc', '1e3', '0x10', '0']) expect((await send(app, 'PUT', `/admin/students/${id}`, { name: 'X' })).status).toBe(400);
  });

  it('a batch over 10,000 commands is refused', async () => {
    const commands = Array.from({ length: 10_001 }, (_, i) => ({ email: `s${i}@x.edu`, course_name: 'Art' }));
    expect((await send(app, 'POST', '/admin/enrollments/batch', { commands })).status).toBe(400);
  });
});

describe('writes over real HTTP (the body read straight from the request stream)', () => {
  let server: ServerType;
  let base: string;
  beforeAll(async () => {
    server = await new Promise<ServerType>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const post = (body: BodyInit, headers: Record<string, string> = {}) =>
    fetch(`${base}/admin/enrollments`, { method: 'POST', headers: { ...ADMIN, 'Content-Type': 'application/json', ...headers }, body, duplex: 'half' } as RequestInit);

  it('accepts a command and applies it', async () => {
    const res = await post(JSON.stringify({ email: 'h@x.edu', name: 'H', course_name: 'Art' }));
    expect(res.status).toBe(202);
    const job = await waitForJob(app, ((await res.json()) as { job_id: string }).job_id);
    expect(job.counts).toMatchObject({ students_created: 1, enrollments_created: 1 });
    expect(await activeCoursesOf(api, 'h@x.edu')).toEqual(['Art']);
  });

  it('refuses malformed JSON (400) and a body streamed past 16 MiB without a length (413): nothing accepted', async () => {
    expect((await post('{"email": ')).status).toBe(400);
    const chunk = new TextEncoder().encode(`${' '.repeat(1024 * 1024 - 1)}\n`);
    let sent = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 20) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const res = await post(endless);
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('too_large');
    expect(await sql('select * from jobs')).toHaveLength(0);
  });
});
