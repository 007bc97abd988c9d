import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { JobView } from '../../src/jobs/job-view.js';
import { truncateAll } from '../support/deps.js';
import { changeFacts, expectCountsMatchChanges, jobChanges, rosterTables } from '../support/history.js';
import { createHistoryService, enrollmentsByKey, seedRoster } from '../support/history-service.js';
import type { TestService } from '../support/service.js';
import { syncCsv } from '../support/sync.js';

/**
 * CONTRACT §7, thresholds: a sync whose deactivations (rows and sweep) or invalid rows go strictly
 * above a threshold applies nothing and waits for approval, with its figures in `hold` and what it
 * would do in its counts and GET /jobs/{id}/changes. At the limit exactly, it applies.
 * Approvals, rejections and the rest are sync-approval.test.ts.
 */

let service: TestService;
beforeAll(async () => {
  service = await createHistoryService();
});
afterAll(() => service.close());

/** Math: s0..s19 active (the scope of every file here); Art: s0..s4 active, out of scope. */
async function seed() {
  await truncateAll(service.api);
  await seedRoster(service.api, [
    ...Array.from({ length: 20 }, (_, i) => ({ email: `s${i}@x.edu`, name: `S${i}`, course: 'Math' })),
    ...Array.from({ length: 5 }, (_, i) => ({ email: `s${i}@x.edu`, course: 'Art', source: 'sis' })),
  ]);
}
beforeEach(seed);

/**
 * A sync of Math naming s0..s(named-1) (s0 renamed), a new student, and `invalid` rows: `bogus`
 * actions for the first ones (they still name their pair), bad emails past `named`.
 */
function mathFile(named: number, opts: { bogus?: number; badEmails?: number } = {}): string {
  const lines = ['name,email,course_name,action', 'S0 Renamed,s0@x.edu,Math,'];
  for (let i = 1; i < named; i++) lines.push(`,s${i}@x.edu,MATH,${i <= (opts.bogus ?? 0) ? 'bogus' : ''}`);
  lines.push('New,new@x.edu,math,');
  for (let i = 0; i < (opts.badEmails ?? 0); i++) lines.push(`,bad-${i},Math,`);
  return `${lines.join('\n')}\n`;
}

const snapshot = async () => ({ ...(await rosterTables(service.api)), sources: await enrollmentsByKey(service.api) });

/** The sync applied: completed, its counts its changes. */
async function expectApplied(job: JobView, deactivated: number) {
  expect(job.status).toMatch(/^completed/);
  expect(job.hold).toBeUndefined();
  expect(job.counts).toMatchObject({ students_created: 1, students_updated: 1, enrollments_created: 1, enrollments_deactivated: deactivated });
  await expectCountsMatchChanges(service.app, job);
  expect((await enrollmentsByKey(service.api)).filter((e) => e.key.endsWith('|math') && !e.active)).toHaveLength(deactivated);
}

/** The sync held: nothing at all applied, its figures, and what it would do. */
async function expectHeld(job: JobView, before: Awaited<ReturnType<typeof snapshot>>, hold: Partial<NonNullable<JobView['hold']>>, deactivated: number) {
  expect(job.status).toBe('awaiting_approval');
  expect(job.hold).toMatchObject(hold);
  expect(await snapshot()).toEqual(before);
  expect(job.counts).toMatchObject({ students_created: 1, students_updated: 1, enrollments_created: 1, enrollments_deactivated: deactivated });
  const wouldDo = await expectCountsMatchChanges(service.app, job);
  expect(wouldDo.filter((c) => c.line === null).map(changeFacts)).toEqual(
    Array.from({ length: deactivated }, (_, i) => ({ kind: 'enrollment_deactivated', email: `s${20 - deactivated + i}@x.edu`, course_name: 'Math', before: true, after: false, line: null })),
  );
  expect(wouldDo.filter((c) => c.line !== null).map(changeFacts)).toEqual([
    { kind: 'student_renamed', email: 's0@x.edu', course_name: null, before: 'S0', after: 'S0 Renamed', line: 2 },
    { kind: 'student_created', email: 'new@x.edu', course_name: null, before: null, after: 'New', line: wouldDo.find((c) => c.kind === 'student_created')!.line },
    { kind: 'enrollment_created', email: 'new@x.edu', course_name: 'Math', before: null, after: true, line: wouldDo.find((c) => c.kind === 'student_created')!.line },
  ]);
}

describe('max_deactivate_percent (default 10) of the enrollments active in scope (CONTRACT §7)', () => {
  it('at 10% exactly (2 of 20) it applies', async () => {
    await expectApplied(await syncCsv(service.app, mathFile(18)), 2);
  });

  it('above (3 of 20, 15%) it holds, applying nothing', async () => {
    const before = await snapshot();
    const job = await syncCsv(service.app, mathFile(17));
    await expectHeld(job, before, { reason: 'max_deactivate_percent', deactivations: 3, active_in_scope: 20, percent: 15, threshold: 10 }, 3);
  });

  it('a threshold of its own: 25% exactly applies, just above holds', async () => {
    await expectApplied(await syncCsv(service.app, mathFile(15), 'max_deactivate_percent=25'), 5);
    await seed();
    const before = await snapshot();
    const job = await syncCsv(service.app, mathFile(14), 'max_deactivate_percent=25');
    await expectHeld(job, before, { reason: 'max_deactivate_percent', deactivations: 6, active_in_scope: 20, percent: 30, threshold: 25 }, 6);
  });
});

describe('max_deactivate: a count (CONTRACT §7)', () => {
  it('at the count it applies', async () => {
    await expectApplied(await syncCsv(service.app, mathFile(17), 'max_deactivate=3&max_deactivate_percent=100'), 3);
  });

  it('one above it holds, applying nothing', async () => {
    const before = await snapshot();
    const job = await syncCsv(service.app, mathFile(16), 'max_deactivate=3&max_deactivate_percent=100');
    await expectHeld(job, before, { reason: 'max_deactivate', deactivations: 4, active_in_scope: 20, percent: 20, threshold: 3 }, 4);
  });
});

describe('max_invalid_percent (default 10) of the rows (CONTRACT §7)', () => {
  it('at 10% exactly (2 of 20 rows) it applies', async () => {
    // 19 Math rows (2 of them with a bogus action, naming their pair) and the new student.
    const job = await syncCsv(service.app, mathFile(19, { bogus: 2 }));
    expect(job.counts).toMatchObject({ rows: 20, invalid: 2 });
    await expectApplied(job, 1);
  });

  it('above (3 of 22 rows) it holds, applying nothing, even with nothing to deactivate past its threshold', async () => {
    const before = await snapshot();
    const job = await syncCsv(service.app, mathFile(20, { badEmails: 1, bogus: 2 }));
    expect(job.counts).toMatchObject({ rows: 22, invalid: 3 });
    // 3 of 22 is 13.6%: held on the invalid rows, its deactivations (none) within their threshold.
    expect(job.hold).toMatchObject({ reason: 'max_invalid_percent', deactivations: 0, active_in_scope: 20, threshold: 10 });
    expect(job.hold!.percent).toBeCloseTo(13.64, 1);
    await expectHeld(job, before, {}, 0);
  });
});

describe('a held sync tells what it would do (CONTRACT §7)', () => {
  it('its changes list the rows first, then the sweep without a line; a dry run with the same file lists the same and never holds', async () => {
    const held = await syncCsv(service.app, mathFile(17));
    expect(held.status).toBe('awaiting_approval');
    const dry = await syncCsv(service.app, mathFile(17), 'dry_run=true');
    expect(dry).toMatchObject({ status: 'completed', counts: held.counts });
    expect(dry.hold).toBeUndefined();
    expect((await jobChanges(service.app, dry.id)).map(changeFacts)).toEqual((await jobChanges(service.app, held.id)).map(changeFacts));
    expect(await jobChanges(service.app, held.id, '&kind=enrollment_deactivated')).toHaveLength(3);
  });
});
