import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { truncateAll } from '../support/deps.js';
import { ADMIN } from '../support/env.js';
import { expectCountsMatchChanges, expectRestored, jobChanges, requestRevert, revertJob, rosterTables, withoutSeq } from '../support/history.js';
import { createHistoryService, seedRoster } from '../support/history-service.js';
import { importCsv } from '../support/imports.js';
import { applyWrite, getJob, waitForJob } from '../support/jobs.js';
import type { TestService } from '../support/service.js';
import { syncCsv } from '../support/sync.js';

/**
 * CONTRACT §6, POST /jobs/{id}/revert: it undoes every change of the job, whatever its type, and the
 * tables are as they were before it (the rows it created stay, inactive). Conflicts with later jobs
 * are revert-conflicts.test.ts; the refusals revert-refusals.test.ts; a killed revert revert-resume.test.ts.
 */

let service: TestService;
beforeAll(async () => {
  service = await createHistoryService();
});
afterAll(() => service.close());
beforeEach(async () => {
  await truncateAll(service.api);
  await seedRoster(service.api, [
    { email: 'ana@x.edu', name: 'Ana', course: 'Math' },
    { email: 'ana@x.edu', name: 'Ana', course: 'Art', active: false },
    { email: 'bo@x.edu', name: 'Bo', course: 'Math' },
    { email: 'cy@x.edu', name: 'Cy', course: 'Art' },
    { email: 'cy@x.edu', name: 'Cy', course: 'Bio' },
    { email: 'dee@x.edu', name: 'Dee', course: 'Bio', active: false },
  ]);
});

const app = () => service.app;
const studentId = async (email: string) =>
  (await service.api.orm.em.getConnection().execute<Array<{ id: number }>>(`select id::int from students where email = '${email}'`))[0]!.id;

describe('a revert restores the tables as they were before the job (CONTRACT §6)', () => {
  it('an import: names, enrollments it activated, deactivated and created; its new student stays', async () => {
    const before = await rosterTables(service.api);
    const job = await importCsv(
      app(),
      [
        'name,email,course_name,action',
        'Ana Maria,ana@x.edu,Physics,', // renamed; Physics created; Math deactivated
        ',ana@x.edu,Art,add',
        ',bo@x.edu,Math,deactivate',
        'Dee D,dee@x.edu,Bio,add',
        'New,new@x.edu,Math,',
        ',cy@x.edu,Geo,', // Geo created; Art and Bio deactivated
        ',bad,Math,', // invalid: reverting a completed_with_errors import
      ].join('\n'),
    );
    expect(job.status).toBe('completed_with_errors');
    await expectCountsMatchChanges(app(), job);
    const revert = await revertJob(app(), job.id);
    expect(revert).toMatchObject({
      status: 'completed',
      counts: { rows: 11, valid: 11, invalid: 0, students_created: 0, students_updated: 2, enrollments_created: 0, enrollments_activated: 4, enrollments_deactivated: 5, unchanged: 0 },
      progress: { processed: 11, total: 11, percent: 100 },
      options: { dry_run: false, force: false },
    });
    expect(expectRestored(before, await rosterTables(service.api))).toEqual({ students: 1, enrollments: 3 });
    // Each restoration is recorded on the line of the change it undoes.
    expect((await jobChanges(app(), revert.id)).map((c) => [c.line, c.kind, c.email, c.course_name ?? c.after])).toEqual([
      [2, 'student_renamed', 'ana@x.edu', 'Ana'],
      [2, 'enrollment_activated', 'ana@x.edu', 'Math'],
      [2, 'enrollment_deactivated', 'ana@x.edu', 'Physics'],
      [3, 'enrollment_deactivated', 'ana@x.edu', 'Art'],
      [4, 'enrollment_activated', 'bo@x.edu', 'Math'],
      [5, 'student_renamed', 'dee@x.edu', 'Dee'],
      [5, 'enrollment_deactivated', 'dee@x.edu', 'Bio'],
      [6, 'enrollment_deactivated', 'new@x.edu', 'Math'],
      [7, 'enrollment_activated', 'cy@x.edu', 'Art'],
      [7, 'enrollment_activated', 'cy@x.edu', 'Bio'],
      [7, 'enrollment_deactivated', 'cy@x.edu', 'Geo'],
    ]);
  });

  it('a batch: each command undone, a value the batch changed and changed back left as it is', async () => {
    const before = await rosterTables(service.api);
    const job = await applyWrite(app(), 'POST', '/admin/enrollments/batch', {
      commands: [
        { email: 'ana@x.edu', name: 'Ana B', course_name: 'Physics' },
        { email: 'cy@x.edu', course_name: 'Bio', action: 'deactivate' },
        { email: 'dee@x.edu', course_name: 'Bio', action: 'add' },
        { email: 'zed@x.edu', name: 'Zed', course_name: 'Art', action: 'add' },
        { email: 'ana@x.edu', course_name: 'math', action: 'add' },
      ],
    });
    expect(job.status).toBe('completed');
    await expectCountsMatchChanges(app(), job);
    const revert = await revertJob(app(), job.id);
    expect(revert.status).toBe('completed');
    expect(revert.counts).toMatchObject({ students_updated: 1, enrollments_activated: 1, enrollments_deactivated: 3, unchanged: 1 });
    expect(expectRestored(before, await rosterTables(service.api))).toEqual({ students: 1, enrollments: 2 });
  });

  it('a single command: the old name and the old course back', async () => {
    const before = await rosterTables(service.api);
    const job = await applyWrite(app(), 'PUT', `/admin/students/${await studentId('bo@x.edu')}`, { name: 'Bob', course_name: 'Art' });
    expect((await expectCountsMatchChanges(app(), job)).map((c) => c.kind)).toEqual(['student_renamed', 'enrollment_created', 'enrollment_deactivated']);
    const revert = await revertJob(app(), job.id);
    expect(revert).toMatchObject({ status: 'completed', counts: { rows: 3, students_updated: 1, enrollments_activated: 1, enrollments_deactivated: 1 } });
    expect(expectRestored(before, await rosterTables(service.api))).toEqual({ students: 0, enrollments: 1 });
  });

  it('a single command that changed a name and an email: both back, the student counted as updated once', async () => {
    const before = await rosterTables(service.api);
    const job = await applyWrite(app(), 'PUT', `/admin/students/${await studentId('bo@x.edu')}`, { name: 'Bob', email: 'bob@x.edu' });
    expect(job.counts.students_updated).toBe(1);
    await expectCountsMatchChanges(app(), job);
    const res = await requestRevert(app(), job.id);
    const revert = await waitForJob(app(), res.body.job_id);
    expect(revert.status).toBe('completed');
    expect((await jobChanges(app(), revert.id)).map((c) => [c.kind, c.before, c.after, c.line])).toEqual([
      ['student_renamed', 'Bob', 'Bo', 1],
      ['student_email_changed', 'bob@x.edu', 'bo@x.edu', 1],
    ]);
    expect(expectRestored(before, await rosterTables(service.api))).toEqual({ students: 0, enrollments: 0 });
    expect(revert.counts.students_updated).toBe(1);
  });

  it('a roster sync: its rows and its sweep undone', async () => {
    const before = await rosterTables(service.api);
    const job = await syncCsv(app(), 'name,email,course_name\nAna X,ana@x.edu,Math\n,dee@x.edu,Bio\nNew,new@x.edu,Art\n', 'max_deactivate_percent=100');
    expect(job).toMatchObject({ status: 'completed', counts: { students_created: 1, students_updated: 1, enrollments_created: 1, enrollments_activated: 1, enrollments_deactivated: 3 } });
    await expectCountsMatchChanges(app(), job);
    const revert = await revertJob(app(), job.id);
    expect(revert).toMatchObject({ status: 'completed', counts: { students_updated: 1, enrollments_activated: 3, enrollments_deactivated: 2 } });
    expect(expectRestored(before, await rosterTables(service.api))).toEqual({ students: 1, enrollments: 1 });
  });
});

describe('a revert and the job it reverts name each other (CONTRACT §6)', () => {
  it('reverts on the revert, reverted_by on the job, in GET /jobs/{id} and GET /jobs', async () => {
    const job = await applyWrite(app(), 'POST', '/admin/enrollments', { email: 'bo@x.edu', course_name: 'Art' });
    expect(job.reverted_by).toBeUndefined();
    const revert = await revertJob(app(), job.id);
    expect(revert.reverts).toBe(job.id);
    expect((await getJob(app(), job.id)).reverted_by).toBe(revert.id);
    const list = (await (await app().request('/api/v1/jobs?limit=10', { headers: ADMIN })).json()) as { items: Array<{ id: string; reverts?: string; reverted_by?: string }> };
    expect(list.items.find((j) => j.id === revert.id)).toMatchObject({ type: 'revert', reverts: job.id });
    expect(list.items.find((j) => j.id === job.id)).toMatchObject({ reverted_by: revert.id });
  });
});

describe('a dry-run revert reports what it would do and changes nothing (CONTRACT §6)', () => {
  it('the same counts and changes as the real revert after it, the tables untouched, the job not marked reverted', async () => {
    const job = await importCsv(app(), 'name,email,course_name\nAna Z,ana@x.edu,Physics\nNew,new@x.edu,Math\n,bo@x.edu,Art\n');
    const after = await rosterTables(service.api);
    const dry = await revertJob(app(), job.id, 'dry_run=true');
    expect(dry).toMatchObject({ status: 'completed', options: { dry_run: true, force: false } });
    expect(dry.counts).toMatchObject({ students_updated: 1, enrollments_activated: 2, enrollments_deactivated: 3 });
    expect(await rosterTables(service.api)).toEqual(after);
    expect((await getJob(app(), job.id)).reverted_by).toBeUndefined();
    const real = await revertJob(app(), job.id);
    expect(real.counts).toEqual(dry.counts);
    expect((await jobChanges(app(), dry.id)).map(withoutSeq)).toEqual((await jobChanges(app(), real.id)).map(withoutSeq));
    expect((await getJob(app(), job.id)).reverted_by).toBe(real.id);
  });
});
