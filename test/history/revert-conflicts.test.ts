import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { JobView } from '../../src/jobs/job-view.js';
import { truncateAll } from '../support/deps.js';
import { expectCountsMatchChanges, expectRestored, requestRevert, revertJob, rosterTables, type RosterTables } from '../support/history.js';
import { createHistoryService, seedRoster } from '../support/history-service.js';
import { importCsv, jobErrors } from '../support/imports.js';
import { applyWrite, getJob } from '../support/jobs.js';
import type { TestService } from '../support/service.js';

/**
 * CONTRACT §6: a value that a later job changed again is a conflict. Strict by default (left as it
 * is, reported as `changed_since` naming that job), restored with `force`. A revert is a job like
 * any other: it can be reverted, and a job and a revert of it that stands cancel out.
 */

let service: TestService;
beforeAll(async () => {
  service = await createHistoryService();
});
afterAll(() => service.close());

let before: RosterTables;
let job: JobView;
beforeEach(async () => {
  await truncateAll(service.api);
  await seedRoster(service.api, [
    { email: 'ana@x.edu', name: 'Ana', course: 'Math' },
    { email: 'bo@x.edu', name: 'Bo', course: 'Math' },
    { email: 'cy@x.edu', name: 'Cy', course: 'Bio' },
  ]);
  before = await rosterTables(service.api);
  job = await importCsv(
    service.app,
    [
      'name,email,course_name,action',
      ',ana@x.edu,Physics,', // 2: Physics created, Math deactivated
      'Bob,bo@x.edu,Art,add', // 3: renamed, Art created
      ',cy@x.edu,Bio,deactivate', // 4
      'New,new@x.edu,Art,', // 5
    ].join('\n'),
  );
  expect(job.status).toBe('completed');
  await expectCountsMatchChanges(service.app, job);
});

const apply = async (method: string, path: string, body: unknown) => {
  const done = await applyWrite(service.app, method, path, body);
  await expectCountsMatchChanges(service.app, done);
  return done;
};
const boId = async () => (await service.api.orm.em.getConnection().execute<Array<{ id: number }>>(`select id::int from students where email = 'bo@x.edu'`))[0]!.id;
const state = async () => {
  const conn = service.api.orm.em.getConnection();
  const [anaInMath] = await conn.execute<Array<{ math: boolean }>>(`select e.active as math from course_enrollments e join students s on s.id = e.student_id join courses c on c.id = e.course_id where s.email = 'ana@x.edu' and c.name = 'Math'`);
  const [bo] = await conn.execute<Array<{ name: string }>>(`select name from students where email = 'bo@x.edu'`);
  return { anaInMath: anaInMath!.math, boName: bo!.name };
};

/** Later jobs change two values the import changed: Ana's Math (on, then off again) and Bo's name. */
async function laterJobs() {
  await apply('POST', '/admin/enrollments', { email: 'ana@x.edu', course_name: 'Math', action: 'add' });
  const off = await apply('POST', '/admin/enrollments', { email: 'ana@x.edu', course_name: 'math', action: 'deactivate' });
  const rename = await apply('PUT', `/admin/students/${await boId()}`, { name: 'Robert' });
  return { off, rename };
}

describe('a conflict is left as it is by default, naming the later job (CONTRACT §6)', () => {
  it('changed_since row errors on the lines of the changes, the rest restored, completed_with_errors', async () => {
    const { off, rename } = await laterJobs();
    const revert = await revertJob(service.app, job.id);
    expect(revert).toMatchObject({ status: 'completed_with_errors', counts: { rows: 6, valid: 4, invalid: 2 } });
    expect(await jobErrors(service.app, revert.id)).toEqual([
      { line: 2, column: 'active', code: 'changed_since', message: expect.stringContaining(off.id), value: off.id },
      { line: 3, column: 'name', code: 'changed_since', message: expect.stringContaining(rename.id), value: rename.id },
    ]);
    expect(await state()).toEqual({ anaInMath: false, boName: 'Robert' });
    // Everything else is as before the import.
    const after = await rosterTables(service.api);
    const conflicted = (t: RosterTables) => ({
      students: t.students.filter((s) => s.email !== 'bo@x.edu'),
      enrollments: t.enrollments.filter((e) => !(e.student_id === before.students[0]!.id && e.course_id === before.enrollments[0]!.course_id)),
    });
    expectRestored(conflicted(before), conflicted(after));
  });
});

describe('force=true restores conflicts too (CONTRACT §6)', () => {
  it('the tables exactly as before the job', async () => {
    await laterJobs();
    const revert = await revertJob(service.app, job.id, 'force=true');
    expect(revert).toMatchObject({ status: 'completed', options: { dry_run: false, force: true }, counts: { invalid: 0 } });
    expect(await jobErrors(service.app, revert.id)).toEqual([]);
    expect(await state()).toEqual({ anaInMath: true, boName: 'Bo' });
    expect(expectRestored(before, await rosterTables(service.api))).toEqual({ students: 1, enrollments: 3 });
  });
});

describe('a revert can be reverted, and then the job reverted again (CONTRACT §6)', () => {
  it('the revert of a revert gives the tables as after the job; the job reverted again has no conflict with the pair', async () => {
    const afterJob = await rosterTables(service.api);
    const first = await revertJob(service.app, job.id);
    expect(first.status).toBe('completed');
    expectRestored(before, await rosterTables(service.api));

    const undo = await revertJob(service.app, first.id);
    expect(undo).toMatchObject({ status: 'completed', reverts: first.id, counts: { invalid: 0 } });
    expect(await rosterTables(service.api)).toEqual(afterJob);
    expect((await getJob(service.app, first.id)).reverted_by).toBe(undo.id);
    expect((await requestRevert(service.app, first.id)).status).toBe(409);

    const again = await revertJob(service.app, job.id);
    expect(again).toMatchObject({ status: 'completed', counts: { invalid: 0 } });
    expect(await jobErrors(service.app, again.id)).toEqual([]);
    expect(expectRestored(before, await rosterTables(service.api))).toEqual({ students: 1, enrollments: 3 });
    expect((await getJob(service.app, job.id)).reverted_by).toBe(again.id);
    const twice = await requestRevert(service.app, job.id);
    expect(twice).toMatchObject({ status: 409, body: { error: { code: 'conflict' } } });
  });

  it('a later job that was itself reverted is no conflict', async () => {
    const rename = await apply('PUT', `/admin/students/${await boId()}`, { name: 'Robert' });
    await revertJob(service.app, rename.id);
    const revert = await revertJob(service.app, job.id);
    expect(revert).toMatchObject({ status: 'completed', counts: { invalid: 0 } });
    expectRestored(before, await rosterTables(service.api));
  });
});
