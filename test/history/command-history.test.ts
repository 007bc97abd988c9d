import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { closeWorkers, startWorkers } from '../../workers/index.js';
import type { RunningWorker } from '../../workers/running-worker.js';
import { truncateAll } from '../support/deps.js';
import { ADMIN } from '../support/env.js';
import { expectCountsMatchChanges, jobChanges, withoutSeq } from '../support/history.js';
import { applyWrite } from '../support/jobs.js';
import { createTestService, type TestService } from '../support/service.js';

let service: TestService;
let workers: RunningWorker[];
beforeAll(async () => {
  service = await createTestService();
  workers = await startWorkers(service.workerDeps);
});
afterAll(async () => {
  await closeWorkers(workers);
  await service.close();
});
beforeEach(() => truncateAll(service.api));

const apply = (method: string, path: string, body: unknown) => applyWrite(service.app, method, path, body);

describe('every change of a command is recorded with its job (CONTRACT §6)', () => {
  it('a new student in a course: the student and the enrollment are created, on the command line 1', async () => {
    const job = await apply('POST', '/admin/students', { name: 'Ada', email: 'ada@x.edu', course_name: 'Math' });
    const changes = await expectCountsMatchChanges(service.app, job);
    const { student_id, course_id } = job.result!;
    expect(changes.map(withoutSeq)).toEqual([
      { kind: 'student_created', student_id, email: 'ada@x.edu', course_id: null, course_name: null, before: null, after: 'Ada', line: 1 },
      { kind: 'enrollment_created', student_id, email: 'ada@x.edu', course_id, course_name: 'Math', before: null, after: true, line: 1 },
    ]);
  });

  it('a rename and a new email: one change each, with the old and new values; the student counts as updated once', async () => {
    const created = await apply('POST', '/admin/students', { name: 'Ada', email: 'ada@x.edu', course_name: 'Math' });
    const id = created.result!.student_id!;
    const job = await apply('PUT', `/admin/students/${id}`, { name: 'Ada L.', email: 'ada.l@x.edu' });
    expect(job.counts).toMatchObject({ students_updated: 1, unchanged: 0 });
    const changes = await expectCountsMatchChanges(service.app, job);
    expect(changes.map(({ kind, before, after, line }) => ({ kind, before, after, line }))).toEqual([
      { kind: 'student_renamed', before: 'Ada', after: 'Ada L.', line: 1 },
      { kind: 'student_email_changed', before: 'ada@x.edu', after: 'ada.l@x.edu', line: 1 },
    ]);
  });

  it('set moves the student: the new enrollment, then the old one deactivated; add and deactivate record theirs', async () => {
    await apply('POST', '/admin/students', { name: 'Ada', email: 'ada@x.edu', course_name: 'Math' });
    const moved = await apply('POST', '/admin/enrollments', { email: 'ada@x.edu', course_name: 'Physics' });
    expect((await expectCountsMatchChanges(service.app, moved)).map((c) => [c.kind, c.course_name, c.before, c.after])).toEqual([
      ['enrollment_created', 'Physics', null, true],
      ['enrollment_deactivated', 'Math', true, false],
    ]);
    const added = await apply('POST', '/admin/enrollments', { email: 'ada@x.edu', course_name: 'math', action: 'add' });
    expect((await expectCountsMatchChanges(service.app, added)).map((c) => [c.kind, c.course_name, c.before, c.after])).toEqual([
      ['enrollment_activated', 'Math', false, true],
    ]);
    const off = await apply('POST', '/admin/enrollments', { email: 'ada@x.edu', course_name: 'Physics', action: 'deactivate' });
    expect((await expectCountsMatchChanges(service.app, off)).map((c) => [c.kind, c.course_name])).toEqual([['enrollment_deactivated', 'Physics']]);
    const again = await apply('POST', '/admin/enrollments', { email: 'ada@x.edu', course_name: 'Physics', action: 'deactivate' });
    expect(again.counts.unchanged).toBe(1);
    expect(await jobChanges(service.app, again.id)).toEqual([]);
  });

  it('a batch records each command on its own position, failed commands changing nothing', async () => {
    const job = await apply('POST', '/admin/enrollments/batch', {
      commands: [
        { email: 'a@x.edu', name: 'A', course_name: 'Art' },
        { student_id: 999_999, course_name: 'Art' },
        { email: 'a@x.edu', course_name: 'Bio' },
        { email: 'a@x.edu', course_name: 'Art', action: 'add' },
      ],
    });
    expect(job.status).toBe('completed_with_errors');
    const changes = await expectCountsMatchChanges(service.app, job);
    expect(changes.map((c) => [c.line, c.kind, c.course_name])).toEqual([
      [1, 'student_created', null],
      [1, 'enrollment_created', 'Art'],
      [3, 'enrollment_created', 'Bio'],
      [3, 'enrollment_deactivated', 'Art'],
      [4, 'enrollment_activated', 'Art'],
    ]);
  });

  it('filters by kind and course, pages with a cursor, and downloads the whole list as formula-safe CSV', async () => {
    const commands = Array.from({ length: 30 }, (_, i) => ({ email: `s${i}@x.edu`, name: i === 0 ? '=HYPERLINK("x")' : `S${i}`, course_name: i % 2 ? 'Odd' : 'Even' }));
    const job = await apply('POST', '/admin/enrollments/batch', { commands });
    const all = await jobChanges(service.app, job.id, '', 7);
    expect(all).toHaveLength(60);
    expect(all).toEqual(await jobChanges(service.app, job.id, '', 1000));
    const oddId = all.find((c) => c.course_name === 'Odd')!.course_id!;
    expect((await jobChanges(service.app, job.id, `&course_id=${oddId}`)).map((c) => c.line)).toEqual(commands.flatMap((_, i) => (i % 2 ? [i + 1] : [])));
    expect(await jobChanges(service.app, job.id, '&kind=student_created')).toHaveLength(30);
    const csv = await (await service.app.request(`/api/v1/jobs/${job.id}/changes`, { headers: { ...ADMIN, Accept: 'text/csv' } })).text();
    const lines = csv.trimEnd().split('\r\n');
    expect(lines[0]).toBe('seq,kind,student_id,email,course_id,course_name,before,after,line');
    expect(lines).toHaveLength(61);
    expect(lines[1]).toContain(`,"'=HYPERLINK(""x"")",`);
  });

  it('answers 404 for an unknown job and 400 for a cursor or filter it never gave', async () => {
    const job = await apply('POST', '/admin/students', { name: 'Ada', email: 'ada@x.edu', course_name: 'Math' });
    const get = (path: string) => service.app.request(`/api/v1${path}`, { headers: ADMIN });
    expect((await get('/jobs/00000000-0000-0000-0000-000000000000/changes')).status).toBe(404);
    expect((await get(`/jobs/${job.id}/changes?cursor=abc`)).status).toBe(400);
    expect((await get(`/jobs/${job.id}/changes?kind=teleported`)).status).toBe(400);
    expect((await get(`/jobs/${job.id}/changes?course_id=-1`)).status).toBe(400);
  });
});

describe("a student's history (CONTRACT §6)", () => {
  it('lists every change to the student and its enrollments, newest first, with the job, its type and the time', async () => {
    const first = await apply('POST', '/admin/students', { name: 'Ada', email: 'ada@x.edu', course_name: 'Math' });
    const id = first.result!.student_id!;
    const second = await apply('PUT', `/admin/students/${id}`, { name: 'Ada L.', course_name: 'Physics' });
    await apply('POST', '/admin/students', { name: 'Bo', email: 'bo@x.edu', course_name: 'Math' });
    const res = await service.app.request(`/api/v1/students/${id}/history?limit=2`, { headers: ADMIN });
    const page1 = (await res.json()) as { items: any[]; next_cursor: string };
    const page2 = (await (await service.app.request(`/api/v1/students/${id}/history?cursor=${page1.next_cursor}`, { headers: ADMIN })).json()) as { items: any[]; next_cursor: null };
    expect(page2.next_cursor).toBeNull();
    const items = [...page1.items, ...page2.items];
    expect(items.map((h) => [h.kind, h.course_name, h.job_id, h.job_type])).toEqual([
      ['enrollment_deactivated', 'Math', second.id, 'command'],
      ['enrollment_created', 'Physics', second.id, 'command'],
      ['student_renamed', null, second.id, 'command'],
      ['enrollment_created', 'Math', first.id, 'command'],
      ['student_created', null, first.id, 'command'],
    ]);
    expect(Date.parse(items[0].at)).toBeGreaterThanOrEqual(Date.parse(items.at(-1).at));
    expect((await service.app.request('/api/v1/students/987654/history', { headers: ADMIN })).status).toBe(404);
  });
});
