import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { JobView } from '../../src/jobs/job-view.js';
import { truncateAll } from '../support/deps.js';
import { READER } from '../support/env.js';
import { changeFacts, expectCountsMatchChanges, jobChanges, rosterTables } from '../support/history.js';
import { createHistoryService, enrollmentsByKey, seedRoster } from '../support/history-service.js';
import { importCsv } from '../support/imports.js';
import { applyWrite, getJob, waitForJob } from '../support/jobs.js';
import { samplesOf } from '../support/metrics.js';
import type { TestService } from '../support/service.js';
import { jobAction, jobSettled, syncCsv } from '../support/sync.js';
import { waitFor } from '../support/wait.js';

/**
 * CONTRACT §7, a held sync: approve (applied to the roster as it is then, or held again if it would
 * now deactivate more), reject, cancel; 409 for a job not awaiting approval; approving takes an
 * Idempotency-Key; a hold holds up no other job; and an operator can see holds in /metrics.
 */

let service: TestService;
beforeAll(async () => {
  service = await createHistoryService();
});
afterAll(() => service.close());

let held: JobView;
/** Math: s0..s19 active; the sync names s0..s16 and would sweep s17..s19 (15% > 10%): held. */
beforeEach(async () => {
  await truncateAll(service.api);
  await seedRoster(service.api, Array.from({ length: 20 }, (_, i) => ({ email: `s${i}@x.edu`, course: 'Math' })));
  held = await syncCsv(service.app, `email,course_name\n${Array.from({ length: 17 }, (_, i) => `s${i}@x.edu,Math`).join('\n')}\n`);
  expect(held).toMatchObject({ status: 'awaiting_approval', hold: { deactivations: 3, active_in_scope: 20 } });
});

const snapshot = async () => ({ ...(await rosterTables(service.api)), sources: await enrollmentsByKey(service.api) });
const inactiveInMath = async () => (await enrollmentsByKey(service.api)).filter((e) => !e.active).map((e) => e.key);
const approved = async (headers: Record<string, string> = {}) => {
  const res = await jobAction(service.app, held.id, 'approve', headers);
  expect(res).toEqual({ status: 202, body: { job_id: held.id, status_url: `/api/v1/jobs/${held.id}` } });
  return waitForJob(service.app, held.id, (j) => j.status !== 'queued' && j.status !== 'running' && jobSettled(j));
};

describe('approve (CONTRACT §7)', () => {
  it('applies the sync, thresholds lifted: what the hold showed is what it does', async () => {
    const wouldDo = await jobChanges(service.app, held.id);
    const job = await approved();
    expect(job).toMatchObject({ status: 'completed', counts: { rows: 17, unchanged: 17, enrollments_deactivated: 3 } });
    expect((await expectCountsMatchChanges(service.app, job)).map(changeFacts)).toEqual(wouldDo.map(changeFacts));
    expect(await inactiveInMath()).toEqual(['s17@x.edu|math', 's18@x.edu|math', 's19@x.edu|math']);
  });

  it('after the roster changed so that it deactivates fewer: applied to the roster as it is then', async () => {
    await applyWrite(service.app, 'POST', '/admin/enrollments', { email: 's19@x.edu', course_name: 'Math', action: 'deactivate' });
    const job = await approved();
    expect(job).toMatchObject({ status: 'completed', counts: { enrollments_deactivated: 2 } });
    expect((await expectCountsMatchChanges(service.app, job)).map((c) => c.email)).toEqual(['s17@x.edu', 's18@x.edu']);
    expect(await inactiveInMath()).toEqual(['s17@x.edu|math', 's18@x.edu|math', 's19@x.edu|math']);
  });

  it('after the roster changed so that it would deactivate more: held again with the new figures, nothing applied', async () => {
    await applyWrite(service.app, 'POST', '/admin/students', { name: 'Late', email: 'late@x.edu', course_name: 'Math' });
    const before = await snapshot();
    const again = await approved();
    expect(again).toMatchObject({ status: 'awaiting_approval', hold: { deactivations: 4, active_in_scope: 21 }, counts: { enrollments_deactivated: 4 } });
    expect(await snapshot()).toEqual(before);
    expect((await expectCountsMatchChanges(service.app, again)).map((c) => c.email)).toEqual(['s17@x.edu', 's18@x.edu', 's19@x.edu', 'late@x.edu']);
    const job = await approved();
    expect(job).toMatchObject({ status: 'completed', counts: { enrollments_deactivated: 4 } });
    await expectCountsMatchChanges(service.app, job);
    expect(await inactiveInMath()).toEqual(['late@x.edu|math', 's17@x.edu|math', 's18@x.edu|math', 's19@x.edu|math']);
  });

  it('takes an Idempotency-Key: the same key gets the same answer and approves once', async () => {
    const job = await approved({ 'Idempotency-Key': 'approve-1' });
    expect(job.status).toBe('completed');
    const replay = await jobAction(service.app, held.id, 'approve', { 'Idempotency-Key': 'approve-1' });
    expect(replay).toEqual({ status: 202, body: { job_id: held.id, status_url: `/api/v1/jobs/${held.id}` } });
    expect(await getJob(service.app, held.id)).toEqual(job);
    expect(await expectCountsMatchChanges(service.app, job)).toHaveLength(3);
    expect((await jobAction(service.app, held.id, 'approve', { 'Idempotency-Key': 'approve-2' })).status).toBe(409);
    const other = await importCsv(service.app, 'email,course_name\ns0@x.edu,Art\n');
    expect((await jobAction(service.app, other.id, 'approve', { 'Idempotency-Key': 'approve-1' })).status).toBe(422);
  });
});

describe('reject and cancel end a hold, applying nothing (CONTRACT §7)', () => {
  it('reject: rejected; then approve or reject again: 409', async () => {
    const before = await snapshot();
    const res = await jobAction(service.app, held.id, 'reject');
    expect(res).toMatchObject({ status: 202, body: { id: held.id, status: 'rejected' } });
    expect(await getJob(service.app, held.id)).toMatchObject({ status: 'rejected', finished_at: expect.any(String) });
    expect(await snapshot()).toEqual(before);
    expect((await jobAction(service.app, held.id, 'approve')).status).toBe(409);
    expect((await jobAction(service.app, held.id, 'reject')).status).toBe(409);
  });

  it('cancel: cancelled; then approve: 409', async () => {
    const before = await snapshot();
    expect(await jobAction(service.app, held.id, 'cancel')).toMatchObject({ status: 202, body: { status: 'cancelled' } });
    expect(await snapshot()).toEqual(before);
    expect((await jobAction(service.app, held.id, 'approve')).status).toBe(409);
    expect((await getJob(service.app, held.id)).status).toBe('cancelled');
  });
});

describe('approve and reject need a job awaiting approval (CONTRACT §7)', () => {
  it('409 for an import, a command or a sync that finished; 404 for no job; 403 for a read token', async () => {
    const imported = await importCsv(service.app, 'email,course_name\ns0@x.edu,Art\n');
    const command = await applyWrite(service.app, 'POST', '/admin/enrollments', { email: 's1@x.edu', course_name: 'Art' });
    const done = await approved();
    for (const job of [imported, command, done]) {
      for (const action of ['approve', 'reject'] as const) {
        expect(await jobAction(service.app, job.id, action)).toMatchObject({ status: 409, body: { error: { code: 'conflict' } } });
      }
    }
    expect((await jobAction(service.app, '00000000-0000-4000-8000-000000000000', 'approve')).status).toBe(404);
    expect((await jobAction(service.app, '00000000-0000-4000-8000-000000000000', 'reject')).status).toBe(404);
    const another = await syncCsv(service.app, 'email,course_name\ns0@x.edu,Math\n');
    expect(another.status).toBe('awaiting_approval');
    expect((await jobAction(service.app, another.id, 'approve', READER)).status).toBe(403);
    expect((await jobAction(service.app, another.id, 'reject', READER)).status).toBe(403);
    expect((await getJob(service.app, another.id)).status).toBe('awaiting_approval');
  });
});

describe('a held sync holds up no other job (CONTRACT §7)', () => {
  it('an import accepted after it completes while it waits; approved, it applies after that import', async () => {
    const later = await importCsv(service.app, 'name,email,course_name\nNew,new@x.edu,Art\n,s0@x.edu,Art\n');
    expect(later).toMatchObject({ status: 'completed', counts: { students_created: 1, enrollments_created: 2 } });
    expect((await getJob(service.app, held.id)).status).toBe('awaiting_approval');
    const job = await approved();
    expect(job).toMatchObject({ status: 'completed', counts: { enrollments_deactivated: 3 } });
    // The import's set moved s0 out of Math: the sync (which names s0 in Math, an add) puts it back.
    expect(job.counts.enrollments_activated).toBe(1);
    await expectCountsMatchChanges(service.app, job);
  });
});

describe('holds in /metrics (CONTRACT §7, issue 14)', () => {
  const scrape = async () => samplesOf(await (await service.app.request('/metrics')).text());

  it('enroll_jobs{status="awaiting_approval"} counts the held syncs', async () => {
    await waitFor('the held sync in /metrics', async () => (await scrape()).get('enroll_jobs{type="import",status="awaiting_approval"}') === 1);
    await jobAction(service.app, held.id, 'reject');
    await waitFor('the rejected sync in /metrics', async () => {
      const samples = await scrape();
      return !samples.has('enroll_jobs{type="import",status="awaiting_approval"}') && samples.get('enroll_jobs{type="import",status="rejected"}') === 1;
    });
  });

  it('enroll_sync_holds_total grows with each hold and does not drop when the hold ends', async () => {
    const holds = async () => (await scrape()).get('enroll_sync_holds_total');
    const before = await waitFor('enroll_sync_holds_total in /metrics', holds);
    expect(before).toBeGreaterThanOrEqual(1);
    await jobAction(service.app, held.id, 'reject');
    const again = await syncCsv(service.app, 'email,course_name\ns0@x.edu,Math\n');
    expect(again.status).toBe('awaiting_approval');
    await waitFor('the holds counter to grow', async () => (await holds()) === before + 1, { timeoutMs: 5_000 });
  });
});
