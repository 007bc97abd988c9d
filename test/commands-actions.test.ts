import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { App } from '../src/http/app.js';
import type { Deps } from '../src/process/deps.js';
import { closeWorkers, startWorkers } from '../workers/index.js';
import type { RunningWorker } from '../workers/running-worker.js';
import { truncateAll } from './support/deps.js';
import { applyWrite, send } from './support/jobs.js';
import { activeCoursesOf } from './support/roster.js';
import { createTestService, type TestService } from './support/service.js';

/** CONTRACT §2 through the writes of §4: students created and moved, and the three actions, each idempotent. */

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

describe('the legacy API examples (seed)', () => {
  it('creates a student with course_name, then moves them to another course', async () => {
    const created = await applyWrite(app, 'POST', '/admin/students', { name: 'John Doe', email: 'john@example.com', course_name: 'Mathematics 101' });
    expect(created).toMatchObject({
      type: 'command',
      status: 'completed',
      progress: { processed: 1, total: 1, percent: 100 },
      counts: { rows: 1, valid: 1, students_created: 1, enrollments_created: 1, unchanged: 0 },
      error: null,
      result: { student_id: expect.any(Number), course_id: expect.any(Number), enrollment_id: expect.any(Number) },
    });
    const id = created.result!.student_id;
    const moved = await applyWrite(app, 'PUT', `/admin/students/${id}`, { course_name: 'Physics 201' });
    expect(moved.counts).toMatchObject({ enrollments_created: 1, enrollments_deactivated: 1 });
    expect(await activeCoursesOf(api, 'john@example.com')).toEqual(['Physics 201']);
    expect(await sql('select * from course_enrollments')).toHaveLength(2);
  });

  it('accepts and ignores team fields', async () => {
    const job = await applyWrite(app, 'POST', '/admin/students', { name: 'A', email: 'a@x.edu', course_name: 'Art', team_id: 3, team_number: 7 });
    expect(job.status).toBe('completed');
  });

  it('PUT renames and re-emails a student; an unknown id is 404', async () => {
    const { result } = await applyWrite(app, 'POST', '/admin/students', { name: 'A', email: 'a@x.edu', course_name: 'Art' });
    const job = await applyWrite(app, 'PUT', `/admin/students/${result!.student_id}`, { name: 'Ann', email: 'ann@x.edu' });
    expect(job.counts).toMatchObject({ students_updated: 1 });
    expect(await sql('select name, email from students')).toEqual([{ name: 'Ann', email: 'ann@x.edu' }]);
    expect((await send(app, 'PUT', '/admin/students/999999', { name: 'X' })).status).toBe(404);
  });
});

describe('the three actions (CONTRACT §2)', () => {
  it('set, add and deactivate, each idempotent', async () => {
    const post = (body: object) => applyWrite(app, 'POST', '/admin/enrollments', body);
    await post({ email: 'b@x.edu', name: 'Bo', course_name: 'Art' });
    await post({ email: 'b@x.edu', course_name: 'Biology', action: 'add' });
    expect(await activeCoursesOf(api, 'b@x.edu')).toEqual(['Art', 'Biology']);
    const again = await post({ email: 'B@X.EDU', course_name: 'biology', action: 'add' });
    expect(again.counts).toMatchObject({ unchanged: 1 });
    await post({ email: 'b@x.edu', course_name: 'Art', action: 'deactivate' });
    expect(await activeCoursesOf(api, 'b@x.edu')).toEqual(['Biology']);
    const ghost = await post({ email: 'ghost@x.edu', course_name: 'Art', action: 'deactivate' });
    expect(ghost).toMatchObject({ status: 'completed', counts: { unchanged: 1 } });
    expect(await sql(`select * from students where email = 'ghost@x.edu'`)).toHaveLength(0);
  });

  it('matches names exactly as the database folds case, also where JavaScript folds otherwise', async () => {
    // lower() keeps a final Σ as σ where JavaScript writes ς; İ differs too.
    const first = await applyWrite(app, 'POST', '/admin/enrollments', { email: 'İlker@x.edu', name: 'İlker', course_name: 'ΟΔΥΣΣΕΑΣ 101' });
    const again = await applyWrite(app, 'POST', '/admin/enrollments', { email: 'İlker@x.edu', course_name: 'ΟΔΥΣΣΕΑΣ 101' });
    const other = await applyWrite(app, 'POST', '/admin/enrollments', { email: 'b@x.edu', name: 'B', course_name: 'οδυσσεασ 101' });
    expect([first.status, again.status, other.status]).toEqual(['completed', 'completed', 'completed']);
    expect(again.counts).toMatchObject({ unchanged: 1 });
    expect(await sql('select name from courses')).toEqual([{ name: 'ΟΔΥΣΣΕΑΣ 101' }]);
    expect(await sql('select count(*)::int as n from students')).toEqual([{ n: 2 }]);
  });

  it('a new student without a name fails with a clear error and changes nothing', async () => {
    const job = await applyWrite(app, 'POST', '/admin/enrollments', { email: 'new@x.edu', course_name: 'Art' });
    expect(job).toMatchObject({ status: 'failed', error: { code: 'name_required' }, counts: { invalid: 1 } });
    expect(await sql('select * from courses')).toHaveLength(0);
  });

  it('names a student by id', async () => {
    const { result } = await applyWrite(app, 'POST', '/admin/students', { name: 'A', email: 'a@x.edu', course_name: 'Art' });
    await applyWrite(app, 'POST', '/admin/enrollments', { student_id: result!.student_id, course_name: 'Chemistry' });
    expect(await activeCoursesOf(api, 'a@x.edu')).toEqual(['Chemistry']);
  });
});
