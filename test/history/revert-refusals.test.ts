import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { truncateAll } from '../support/deps.js';
import { READER } from '../support/env.js';
import { requestRevert, revertJob } from '../support/history.js';
import { createHistoryService, seedRoster } from '../support/history-service.js';
import { cleanCsv, importCsv, uploadCsv } from '../support/imports.js';
import { applyWrite, getJob } from '../support/jobs.js';
import { createTestService, type TestService } from '../support/service.js';
import { jobAction, syncCsv } from '../support/sync.js';

/**
 * CONTRACT §6: what POST /jobs/{id}/revert refuses. A job can be reverted once (409 afterwards); a
 * queued or running job, a dry run and a sync that applied nothing get 409; an unknown job 404; a
 * read token 403. A refused revert makes no job.
 */

const revertJobs = async (service: TestService) =>
  (await service.api.orm.em.getConnection().execute<Array<{ n: number }>>(`select count(*)::int as n from jobs where type = 'revert'`))[0]!.n;

describe('a queued or running job cannot be reverted (CONTRACT §6)', () => {
  let idle: TestService;
  beforeAll(async () => {
    // No worker and no relay anywhere on this database: the import stays queued.
    idle = await createTestService();
    await truncateAll(idle.api);
  });
  afterAll(() => idle.close());

  it('409 while no worker has taken it, and no revert job', async () => {
    const res = await uploadCsv(idle.app, cleanCsv(3));
    expect(res.status).toBe(202);
    expect((await getJob(idle.app, res.body.job_id)).status).toBe('queued');
    expect(await requestRevert(idle.app, res.body.job_id)).toMatchObject({ status: 409, body: { error: { code: 'conflict' } } });
    expect(await revertJobs(idle)).toBe(0);
    // As a worker that has started it leaves it (no worker runs here to move it on).
    await idle.api.orm.em.getConnection().execute(`update jobs set status = 'running', started_at = now() where id = ?`, [res.body.job_id]);
    expect(await requestRevert(idle.app, res.body.job_id)).toMatchObject({ status: 409, body: { error: { message: expect.stringContaining('running') } } });
    expect(await revertJobs(idle)).toBe(0);
    await idle.api.orm.em.getConnection().execute(`update jobs set status = 'queued' where id = ?`, [res.body.job_id]);
    expect((await jobAction(idle.app, res.body.job_id, 'cancel')).status).toBe(202);
  });
});

describe('what else a revert refuses (CONTRACT §6)', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await createHistoryService();
    await seedRoster(service.api, [
      { email: 'a@x.edu', course: 'Math' },
      { email: 'b@x.edu', course: 'Math' },
      { email: 'c@x.edu', course: 'Math' },
    ]);
  });
  afterAll(() => service.close());

  const refused = async (jobId: string, query = '') => {
    const n = await revertJobs(service);
    const res = await requestRevert(service.app, jobId, query);
    expect(res).toMatchObject({ status: 409, body: { error: { code: 'conflict', message: expect.stringContaining(jobId) } } });
    expect(await revertJobs(service)).toBe(n);
    return res.body;
  };

  it('a job already reverted: 409 naming its revert, with or without force or dry_run', async () => {
    const job = await applyWrite(service.app, 'POST', '/admin/enrollments', { email: 'a@x.edu', course_name: 'Art' });
    const revert = await revertJob(service.app, job.id);
    expect((await refused(job.id)).error.details).toEqual({ reverted_by: revert.id });
    await refused(job.id, 'force=true');
    await refused(job.id, 'dry_run=true');
  });

  it('a dry run, import or revert: 409', async () => {
    const dry = await importCsv(service.app, 'name,email,course_name\nD,d@x.edu,Bio\n', 'dry_run=true');
    expect(dry.status).toBe('completed');
    await refused(dry.id);
    const job = await applyWrite(service.app, 'POST', '/admin/enrollments', { email: 'b@x.edu', course_name: 'Art', action: 'add' });
    const dryRevert = await revertJob(service.app, job.id, 'dry_run=true');
    await refused(dryRevert.id);
  });

  it('a sync that applied nothing: held, rejected, its hold cancelled, or completed changing nothing: 409', async () => {
    const file = 'email,course_name\na@x.edu,Math\n'; // would sweep 2 of 3: past 10%
    const held = await syncCsv(service.app, file);
    expect(held.status).toBe('awaiting_approval');
    await refused(held.id);
    expect((await jobAction(service.app, held.id, 'reject')).status).toBe(202);
    expect((await getJob(service.app, held.id)).status).toBe('rejected');
    await refused(held.id);

    const cancelled = await syncCsv(service.app, file);
    expect((await jobAction(service.app, cancelled.id, 'cancel')).body).toMatchObject({ status: 'cancelled' });
    await refused(cancelled.id);

    const nothing = await syncCsv(service.app, 'email,course_name\na@x.edu,Math\nb@x.edu,Math\nc@x.edu,Math\n');
    expect(nothing).toMatchObject({ status: 'completed', counts: { rows: 3, unchanged: 3 } });
    await refused(nothing.id);
  });

  it('an unknown job: 404; a read token: 403; no token: 401', async () => {
    expect((await requestRevert(service.app, '00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await requestRevert(service.app, 'not-a-job')).status).toBe(404);
    const job = await applyWrite(service.app, 'POST', '/admin/enrollments', { email: 'c@x.edu', course_name: 'Art', action: 'add' });
    const n = await revertJobs(service);
    expect(await requestRevert(service.app, job.id, '', READER)).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
    expect((await requestRevert(service.app, job.id, '', {})).status).toBe(401);
    expect((await requestRevert(service.app, job.id, 'force=maybe')).status).toBe(400);
    expect(await revertJobs(service)).toBe(n);
    expect((await getJob(service.app, job.id)).reverted_by).toBeUndefined();
    // Still revertible by an admin.
    expect((await revertJob(service.app, job.id)).status).toBe('completed');
  });
});
