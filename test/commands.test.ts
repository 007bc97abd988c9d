import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Deps } from '../src/process/deps.js';
import type { App } from '../src/http/app.js';
import { closeWorkers, startWorkers } from '../workers/index.js';
import type { RunningWorker } from '../workers/running-worker.js';
import { truncateAll } from './support/deps.js';
import { ADMIN } from './support/env.js';
import { send, waitForJob } from './support/jobs.js';
import { createTestService, type TestService } from './support/service.js';

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
const activeCoursesOf = async (email: string) =>
  (
    await sql<{ name: string }>(
      `select c.name from course_enrollments e join courses c on c.id = e.course_id join students s on s.id = e.student_id
        where lower(s.email) = lower(?) and e.active order by c.name`,
      [email],
    )
  ).map((r) => r.name);

/** Sends a write and waits for its job to finish. */
async function apply(method: string, path: string, body: unknown) {
  const res = await send(app, method, path, body);
  expect(res.status).toBe(202);
  expect(res.body).toEqual({ job_id: expect.any(String), status_url: `/api/v1/jobs/${res.body.job_id}` });
  return waitForJob(app, res.body.job_id);
}

describe('the legacy API examples (seed)', () => {
  it('creates a student with course_name, then moves them to another course', async () => {
    const created = await apply('POST', '/admin/students', { name: 'John Doe', email: 'john@example.com', course_name: 'Mathematics 101' });
    expect(created).toMatchObject({
      type: 'command',
      status: 'completed',
      progress: { processed: 1, total: 1, percent: 100 },
      counts: { rows: 1, valid: 1, students_created: 1, enrollments_created: 1, unchanged: 0 },
      error: null,
      result: { student_id: expect.any(Number), course_id: expect.any(Number), enrollment_id: expect.any(Number) },
    });
    const id = created.result!.student_id;
    const moved = await apply('PUT', `/admin/students/${id}`, { course_name: 'Physics 201' });
    expect(moved.counts).toMatchObject({ enrollments_created: 1, enrollments_deactivated: 1 });
    expect(await activeCoursesOf('john@example.com')).toEqual(['Physics 201']);
    expect(await sql('select * from course_enrollments')).toHaveLength(2);
  });

  it('accepts and ignores team fields', async () => {
    const job = await apply('POST', '/admin/students', { name: 'A', email: 'a@x.edu', course_name: 'Art', team_id: 3, team_number: 7 });
    expect(job.status).toBe('completed');
  });

  it('PUT renames and re-emails a student; an unknown id is 404', async () => {
    const { result } = await apply('POST', '/admin/students', { name: 'A', email: 'a@x.edu', course_name: 'Art' });
    const job = await apply('PUT', `/admin/students/${result!.student_id}`, { name: 'Ann', email: 'ann@x.edu' });
    expect(job.counts).toMatchObject({ students_updated: 1 });
    expect(await sql('select name, email from students')).toEqual([{ name: 'Ann', email: 'ann@x.edu' }]);
    expect((await send(app, 'PUT', '/admin/students/999999', { name: 'X' })).status).toBe(404);
  });
});

describe('the three actions (CONTRACT §2)', () => {
  it('set, add and deactivate, each idempotent', async () => {
    const post = (body: object) => apply('POST', '/admin/enrollments', body);
    await post({ email: 'b@x.edu', name: 'Bo', course_name: 'Art' });
    await post({ email: 'b@x.edu', course_name: 'Biology', action: 'add' });
    expect(await activeCoursesOf('b@x.edu')).toEqual(['Art', 'Biology']);
    const again = await post({ email: 'B@X.EDU', course_name: 'biology', action: 'add' });
    expect(again.counts).toMatchObject({ unchanged: 1 });
    await post({ email: 'b@x.edu', course_name: 'Art', action: 'deactivate' });
    expect(await activeCoursesOf('b@x.edu')).toEqual(['Biology']);
    const ghost = await post({ email: 'ghost@x.edu', course_name: 'Art', action: 'deactivate' });
    expect(ghost).toMatchObject({ status: 'completed', counts: { unchanged: 1 } });
    expect(await sql(`select * from students where email = 'ghost@x.edu'`)).toHaveLength(0);
  });

  it('matches names exactly as the database folds case, also where JavaScript folds otherwise', async () => {
    // lower() keeps a final Σ as σ where JavaScript writes ς; İ differs too.
    const first = await apply('POST', '/admin/enrollments', { email: 'İlker@x.edu', name: 'İlker', course_name: 'ΟΔΥΣΣΕΑΣ 101' });
    const again = await apply('POST', '/admin/enrollments', { email: 'İlker@x.edu', course_name: 'ΟΔΥΣΣΕΑΣ 101' });
    const other = await apply('POST', '/admin/enrollments', { email: 'b@x.edu', name: 'B', course_name: 'οδυσσεασ 101' });
    expect([first.status, again.status, other.status]).toEqual(['completed', 'completed', 'completed']);
    expect(again.counts).toMatchObject({ unchanged: 1 });
    expect(await sql('select name from courses')).toEqual([{ name: 'ΟΔΥΣΣΕΑΣ 101' }]);
    expect(await sql('select count(*)::int as n from students')).toEqual([{ n: 2 }]);
  });

  it('a new student without a name fails with a clear error and changes nothing', async () => {
    const job = await apply('POST', '/admin/enrollments', { email: 'new@x.edu', course_name: 'Art' });
    expect(job).toMatchObject({ status: 'failed', error: { code: 'name_required' }, counts: { invalid: 1 } });
    expect(await sql('select * from courses')).toHaveLength(0);
  });

  it('names a student by id', async () => {
    const { result } = await apply('POST', '/admin/students', { name: 'A', email: 'a@x.edu', course_name: 'Art' });
    await apply('POST', '/admin/enrollments', { student_id: result!.student_id, course_name: 'Chemistry' });
    expect(await activeCoursesOf('a@x.edu')).toEqual(['Chemistry']);
  });
});

describe('batches', () => {
  it('apply in order as one job, with per-command errors', async () => {
    const job = await apply('POST', '/admin/enrollments/batch', {
      commands: [
        { email: 'c@x.edu', name: 'Cy', course_name: 'Art' },
        { email: 'c@x.edu', course_name: 'Biology', action: 'add' },
        { email: 'nobody@x.edu', course_name: 'Art' },
        { email: 'c@x.edu', course_name: 'Art', action: 'deactivate' },
        { email: 'c@x.edu', course_name: 'Chemistry', action: 'set' },
      ],
    });
    expect(job).toMatchObject({
      type: 'batch',
      status: 'completed_with_errors',
      progress: { processed: 5, total: 5 },
      counts: { rows: 5, valid: 4, invalid: 1, students_created: 1, enrollments_created: 3, enrollments_deactivated: 2 },
    });
    expect(await activeCoursesOf('c@x.edu')).toEqual(['Chemistry']);
    const errors = await app.request(`/api/v1/jobs/${job.id}/errors`, { headers: { Authorization: 'Bearer test-read-token-0123456789' } });
    expect(await errors.json()).toEqual({
      items: [{ line: 3, column: 'name', code: 'name_required', message: 'a new student needs a name', value: null }],
      next_cursor: null,
    });
  });

  it('lists errors page by page and as one CSV download', async () => {
    const commands = Array.from({ length: 5 }, (_, i) => ({ email: `=nobody${i}@x.edu`, course_name: 'Art' }));
    const job = await apply('POST', '/admin/enrollments/batch', { commands });
    const read = { Authorization: 'Bearer test-read-token-0123456789' };
    const lines: number[] = [];
    let url = `/api/v1/jobs/${job.id}/errors?limit=2`;
    for (let pages = 0; ; pages++) {
      const page = await (await app.request(url, { headers: read })).json();
      lines.push(...page.items.map((e: { line: number }) => e.line));
      if (!page.next_cursor) break;
      expect(pages).toBeLessThan(3);
      url = `/api/v1/jobs/${job.id}/errors?limit=2&cursor=${page.next_cursor}`;
    }
    expect(lines).toEqual([1, 2, 3, 4, 5]);
    const csv = await app.request(`/api/v1/jobs/${job.id}/errors`, { headers: { ...read, Accept: 'text/csv' } });
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const rows = (await csv.text()).trim().split('\r\n');
    expect(rows).toHaveLength(6);
    expect(rows[0]).toBe('line,column,code,message,value');
    expect(rows[1]).toBe('1,name,name_required,a new student needs a name,');
    const bad = await app.request(`/api/v1/jobs/${job.id}/errors?cursor=xyz`, { headers: read });
    expect(bad.status).toBe(400);
  });

  it('many single commands share transactions, and keep each student’s order', async () => {
    // Accept 300 commands while the workers are paused, then let them drain.
    await Promise.all(workers.map((w) => w.close()));
    const ids: string[] = [];
    for (let i = 0; i < 100; i++) {
      for (const course of ['Art', 'Biology', 'Chemistry']) {
        const res = await send(app, 'POST', '/admin/enrollments', { email: `s${i}@x.edu`, name: `S ${i}`, course_name: course });
        ids.push(res.body.job_id);
      }
    }
    workers = await startWorkers(workerDeps);
    for (const id of ids) expect((await waitForJob(app, id)).status).toBe('completed');
    const [{ n }] = (await sql<{ n: string }>(`select count(distinct finished_at) as n from jobs where id = any(?::uuid[])`, [`{${ids.join(",")}}`])) as [{ n: string }];
    expect(Number(n)).toBeLessThan(30);
    const active = await sql<{ name: string }>(`select distinct c.name from course_enrollments e join courses c on c.id = e.course_id where e.active`);
    expect(active).toEqual([{ name: 'Chemistry' }]);
  });
});

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
    expect(await activeCoursesOf('h@x.edu')).toEqual(['Art']);
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

describe('jobs', () => {
  it('an unknown job is 404; a finished job cannot be cancelled', async () => {
    const missing = await app.request('/api/v1/jobs/00000000-0000-4000-8000-000000000000', { headers: { Authorization: 'Bearer test-read-token-0123456789' } });
    expect(missing.status).toBe(404);
    expect((await app.request('/api/v1/jobs/not-a-uuid', { headers: { Authorization: 'Bearer test-read-token-0123456789' } })).status).toBe(404);
    const job = await apply('POST', '/admin/enrollments', { email: 'a@x.edu', name: 'A', course_name: 'Art' });
    expect((await send(app, 'POST', `/jobs/${job.id}/cancel`, {})).status).toBe(409);
  });

  it('polls arriving together (read in one query) each get their own job, whatever the letter case', async () => {
    const first = await apply('POST', '/admin/enrollments', { email: 'a@x.edu', name: 'A', course_name: 'Art' });
    const second = await apply('POST', '/admin/enrollments', { email: 'b@x.edu', name: 'B', course_name: 'Art' });
    const read = { Authorization: 'Bearer test-read-token-0123456789' };
    const ids = [first.id, second.id.toUpperCase(), '00000000-0000-4000-8000-000000000000', first.id];
    const answers = await Promise.all(ids.map((id) => app.request(`/api/v1/jobs/${id}`, { headers: read })));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 404, 200]);
    const [a, b, , again] = await Promise.all(answers.map((r) => r.json()));
    expect([a.id, b.id, again.id]).toEqual([first.id, second.id, first.id]);
    expect(b).toEqual(second);
  });

  it('GET /jobs lists the newest first, filters by type and status, and paginates', async () => {
    const first = await apply('POST', '/admin/enrollments', { email: 'a@x.edu', name: 'A', course_name: 'Art' });
    const second = await apply('POST', '/admin/enrollments/batch', { commands: [{ email: 'b@x.edu', name: 'B', course_name: 'Art' }] });
    const third = await apply('POST', '/admin/enrollments', { email: 'new@x.edu', course_name: 'Art' });
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
    const other = await apply('POST', '/admin/enrollments', { email: 'b@x.edu', name: 'B', course_name: 'Art' });
    expect(other.status).toBe('completed');
    expect((await waitForJob(app, res.body.job_id)).status).toBe('cancelled');
    expect(await sql(`select * from students where email = 'a@x.edu'`)).toHaveLength(0);
  });
});
