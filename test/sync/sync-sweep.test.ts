import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { truncateAll } from '../support/deps.js';
import { expectCountsMatchChanges, expectRestored, jobChanges, revertJob, rosterTables } from '../support/history.js';
import { createHistoryService, enrollmentsByKey, seedRoster } from '../support/history-service.js';
import { jobErrors } from '../support/imports.js';
import type { TestService } from '../support/service.js';
import { syncCsv } from '../support/sync.js';

/**
 * CONTRACT §7, the sweep: after its rows, a sync deactivates every enrollment that is active, in
 * scope and not named by the file (named: every row whose email and course are valid). A file
 * without a valid row changes nothing. A revert of a sync reactivates what its sweep deactivated.
 * A sync killed mid-sweep is sync-resume.test.ts; sources are sources.test.ts.
 */

let service: TestService;
beforeAll(async () => {
  service = await createHistoryService();
});
afterAll(() => service.close());

/** Math: a, b; Art: c; Geo: d (another feed's); Bio: a, inactive. */
beforeEach(async () => {
  await truncateAll(service.api);
  await seedRoster(service.api, [
    { email: 'a@x.edu', course: 'Math' },
    { email: 'b@x.edu', course: 'Math' },
    { email: 'c@x.edu', course: 'Art' },
    { email: 'd@x.edu', course: 'Geo', source: 'other' },
    { email: 'a@x.edu', course: 'Bio', active: false },
  ]);
});

const NO_HOLD = 'max_deactivate_percent=100&max_invalid_percent=100';
/** The enrollments as `email|course: active` (sources left out). */
const flags = async () => Object.fromEntries((await enrollmentsByKey(service.api)).map((e) => [e.key, e.active]));
const SEEDED = { 'a@x.edu|bio': false, 'a@x.edu|math': true, 'b@x.edu|math': true, 'c@x.edu|art': true, 'd@x.edu|geo': true };

describe('the scope of the sweep (CONTRACT §7)', () => {
  it('scope=courses (the default): only the courses the file names', async () => {
    const job = await syncCsv(service.app, 'email,course_name\nA@X.edu,MATH\n', NO_HOLD);
    expect(job).toMatchObject({ status: 'completed', counts: { rows: 1, valid: 1, unchanged: 1, enrollments_deactivated: 1 }, options: { scope: 'courses' } });
    expect(await flags()).toEqual({ ...SEEDED, 'b@x.edu|math': false });
    expect((await expectCountsMatchChanges(service.app, job)).map(({ kind, email, course_name, before, after, line }) => ({ kind, email, course_name, before, after, line }))).toEqual([
      { kind: 'enrollment_deactivated', email: 'b@x.edu', course_name: 'Math', before: true, after: false, line: null },
    ]);
  });

  it('scope=all: every active enrollment the file does not name, whatever its course or source', async () => {
    const job = await syncCsv(service.app, 'email,course_name\na@x.edu,Math\n', `scope=all&${NO_HOLD}`);
    expect(job).toMatchObject({ status: 'completed', counts: { enrollments_deactivated: 3 }, options: { scope: 'all' } });
    expect(await flags()).toEqual({ ...SEEDED, 'b@x.edu|math': false, 'c@x.edu|art': false, 'd@x.edu|geo': false });
    expect((await expectCountsMatchChanges(service.app, job)).map((c) => [c.email, c.course_name, c.line])).toEqual([
      ['b@x.edu', 'Math', null],
      ['c@x.edu', 'Art', null],
      ['d@x.edu', 'Geo', null],
    ]);
  });

  it('the rows apply first (a deactivate row is no sweep), then the sweep; a pair named twice is swept by neither', async () => {
    const job = await syncCsv(service.app, 'email,course_name,action\nb@x.edu,Math,deactivate\na@x.edu,Bio,\na@x.edu,bio,\n', `scope=all&${NO_HOLD}`);
    expect(job.counts).toMatchObject({ rows: 3, enrollments_activated: 1, enrollments_deactivated: 4, unchanged: 1 });
    expect(await flags()).toEqual({ 'a@x.edu|bio': true, 'a@x.edu|math': false, 'b@x.edu|math': false, 'c@x.edu|art': false, 'd@x.edu|geo': false });
    expect((await expectCountsMatchChanges(service.app, job)).map((c) => [c.kind, c.email, c.course_name, c.line])).toEqual([
      ['enrollment_deactivated', 'b@x.edu', 'Math', 2],
      ['enrollment_activated', 'a@x.edu', 'Bio', 3],
      ['enrollment_deactivated', 'a@x.edu', 'Math', null],
      ['enrollment_deactivated', 'c@x.edu', 'Art', null],
      ['enrollment_deactivated', 'd@x.edu', 'Geo', null],
    ]);
  });
});

describe('an invalid row with a valid email and course names its pair (CONTRACT §7)', () => {
  it('a bad action or an over-long name never unenrolls the student; a bad email or no course names nothing', async () => {
    await seedRoster(service.api, [{ email: 'e@x.edu', course: 'Math' }]);
    const csv = [
      'name,email,course_name,action',
      ',a@x.edu,Math,', // 2
      ',b@x.edu,Math,bogus', // 3: invalid_action
      `${'x'.repeat(201)},e@x.edu,math,`, // 4: too_long
      ',bad-email,Math,', // 5: invalid_email
      ',c@x.edu,,', // 6: course_name required
    ].join('\n');
    const job = await syncCsv(service.app, csv, NO_HOLD);
    expect(job).toMatchObject({ status: 'completed_with_errors', counts: { rows: 5, valid: 1, invalid: 4, enrollments_deactivated: 0 } });
    expect((await jobErrors(service.app, job.id)).map((e) => [e.line, e.code])).toEqual([
      [3, 'invalid_action'],
      [4, 'too_long'],
      [5, 'invalid_email'],
      [6, 'required'],
    ]);
    expect(await flags()).toEqual({ ...SEEDED, 'e@x.edu|math': true });
    expect(await expectCountsMatchChanges(service.app, job)).toEqual([]);
  });
});

describe('a sync without a valid row fails with empty_sync and changes nothing (CONTRACT §7)', () => {
  const csv = 'email,course_name,action\na@x.edu,Math,bogus\nnot-an-email,Math,\n';

  it('whatever its thresholds, even when its invalid rows name pairs', async () => {
    const before = await rosterTables(service.api);
    for (const query of ['', NO_HOLD, `scope=all&${NO_HOLD}`, 'max_deactivate=0&max_invalid_percent=0', 'dry_run=true']) {
      const job = await syncCsv(service.app, csv, query);
      expect(job, query).toMatchObject({ status: 'failed', error: { code: 'empty_sync' }, counts: { rows: 2, valid: 0, invalid: 2 } });
      expect(job.hold).toBeUndefined();
      // Its counts are checked against its (empty) changes below.
      expect(await jobChanges(service.app, job.id)).toEqual([]);
    }
    expect(await rosterTables(service.api)).toEqual(before);
    expect(await flags()).toEqual(SEEDED);
  });

  it('its counts are its changes: nothing', async () => {
    const job = await syncCsv(service.app, csv);
    expect(job).toMatchObject({ status: 'failed', error: { code: 'empty_sync' } });
    await expectCountsMatchChanges(service.app, job);
  });
});

describe('a revert of a sync reactivates what its sweep deactivated (CONTRACT §6, §7)', () => {
  it('scope=all: the swept enrollments active again, recorded without a line; the rows undone too', async () => {
    const before = await rosterTables(service.api);
    const job = await syncCsv(service.app, 'name,email,course_name\n,a@x.edu,Bio\nNew,new@x.edu,Math\n', `scope=all&${NO_HOLD}`);
    expect(job.counts).toMatchObject({ enrollments_activated: 1, enrollments_created: 1, enrollments_deactivated: 4 });
    const revert = await revertJob(service.app, job.id);
    expect(revert).toMatchObject({ status: 'completed', counts: { enrollments_activated: 4, enrollments_deactivated: 2 } });
    expect((await jobChanges(service.app, revert.id, '&kind=enrollment_activated')).map((c) => [c.email, c.course_name, c.line])).toEqual([
      ['a@x.edu', 'Math', null],
      ['b@x.edu', 'Math', null],
      ['c@x.edu', 'Art', null],
      ['d@x.edu', 'Geo', null],
    ]);
    expect(expectRestored(before, await rosterTables(service.api))).toEqual({ students: 1, enrollments: 1 });
    expect(await flags()).toEqual({ ...SEEDED, 'new@x.edu|math': false });
  });
});
