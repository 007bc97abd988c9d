import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { App } from '../src/http/app.js';
import type { Deps } from '../src/process/deps.js';
import { closeWorkers, startWorkers } from '../workers/index.js';
import type { RunningWorker } from '../workers/running-worker.js';
import { truncateAll } from './support/deps.js';
import { applyWrite, send, waitForJob } from './support/jobs.js';
import { activeCoursesOf } from './support/roster.js';
import { createTestService, type TestService } from './support/service.js';

/** CONTRACT §4 `POST /admin/enrollments/batch`: up to 10,000 actions applied in order as one job, and their row errors. */

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

describe('batches', () => {
  it('apply in order as one job, with per-command errors', async () => {
    const job = await applyWrite(app, 'POST', '/admin/enrollments/batch', {
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
    expect(await activeCoursesOf(api, 'c@x.edu')).toEqual(['Chemistry']);
    const errors = await app.request(`/api/v1/jobs/${job.id}/errors`, { headers: { Authorization: 'Bearer test-read-token-0123456789' } });
    expect(await errors.json()).toEqual({
      items: [{ line: 3, column: 'name', code: 'name_required', message: 'a new student needs a name', value: null }],
      next_cursor: null,
    });
  });

  it('lists errors page by page and as one CSV download', async () => {
    const commands = Array.from({ length: 5 }, (_, i) => ({ email: `=nobody${i}@x.edu`, course_name: 'Art' }));
    const job = await applyWrite(app, 'POST', '/admin/enrollments/batch', { commands });
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
