import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { App } from '../src/http/app.js';
import type { Deps } from '../src/process/deps.js';
import { truncateAll } from './support/deps.js';
import { ADMIN } from './support/env.js';
import { cleanCsv, createImportService, uploadCsv, waitForNoActiveJobs } from './support/imports.js';
import { jobFinished, waitForJob } from './support/jobs.js';
import type { TestService } from './support/service.js';

/** CONTRACT §4 Jobs for imports: progress while running, cancel between batches, one import at a time in order. */

let service: TestService;
let api: Deps;
let app: App;
beforeAll(async () => {
  service = await createImportService();
  ({ api, app } = service);
});
afterAll(() => service.close());
beforeEach(async () => {
  await waitForNoActiveJobs(api);
  await truncateAll(api);
});
const sql = <T = any>(q: string, params: unknown[] = []) => api.orm.em.getConnection().execute<T[]>(q, params);

describe('progress and cancel', () => {
  it('shows progress while running and stops at the next batch on cancel, keeping and counting what it applied', async () => {
    // Parts are applied in transactions of about 5,000 written rows, two at a time: 30,000 rows
    // leave parts to stop before.
    const res = await uploadCsv(app, cleanCsv(30_000));
    const id = res.body.job_id;
    const running = await waitForJob(app, id, (j) => j.progress.processed > 0 || jobFinished(j));
    expect(running.status).toBe('running');
    expect(running.progress.total).toBe(30_000);
    const cancel = await app.request(`/api/v1/jobs/${id}/cancel`, { method: 'POST', headers: ADMIN });
    expect(cancel.status).toBe(202);
    const job = await waitForJob(app, id);
    expect(job.status).toBe('cancelled');
    expect(job.progress.processed).toBeLessThan(30_000);
    expect(job.counts.rows).toBe(job.progress.processed);
    const [{ n }] = await sql(`select count(*)::int as n from students`);
    expect(n).toBe(job.counts.students_created);
    expect(n).toBe(job.progress.processed); // every row of this file creates a student
  });

  it('applies imports one at a time in the order they were accepted', async () => {
    const a = await uploadCsv(app, cleanCsv(400, { course: () => 'First' }));
    const b = await uploadCsv(app, cleanCsv(400, { course: () => 'Second' }));
    const jobA = await waitForJob(app, a.body.job_id);
    const jobB = await waitForJob(app, b.body.job_id);
    expect(new Date(jobA.finished_at!).getTime()).toBeLessThanOrEqual(new Date(jobB.started_at!).getTime());
    const active = await sql(`select c.name, count(*)::int as n from course_enrollments e join courses c on c.id = e.course_id where e.active group by 1`);
    expect(active).toEqual([{ name: 'Second', n: 400 }]);
  });
});
