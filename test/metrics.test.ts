import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initORM } from '../src/db/orm.js';
import type { App } from '../src/http/app.js';
import type { Deps } from '../src/process/deps.js';
import { createMetrics } from '../src/process/metrics.js';
import { handOverOnce } from '../src/jobs/relay.js';
import { createQueueBackend } from '../src/queues/backend.js';
import { createQueues } from '../src/queues/queues.js';
import { closeWorkers, startWorkers } from '../workers/index.js';
import type { RunningWorker } from '../workers/running-worker.js';
import { truncateAll } from './support/deps.js';
import { itRedis, TEST_DATABASE_URL, TEST_QUEUE_BACKEND, testConfig } from './support/env.js';
import { uploadCsv } from './support/imports.js';
import { send, waitForJob } from './support/jobs.js';
import { samplesOf } from './support/metrics.js';
import { createTestService, type TestService } from './support/service.js';
import { waitFor } from './support/wait.js';

/** CONTRACT §4 `GET /metrics`: jobs by type and status, queue depth, requests, and which source answered. */

let service: TestService;
let api: Deps;
let workerDeps: Deps;
let workers: RunningWorker[] = [];
let app: App;

beforeAll(async () => {
  service = await createTestService();
  ({ api, workerDeps, app } = service);
  await truncateAll(api);
});
afterAll(async () => {
  await closeWorkers(workers);
  await service.close();
});

/** Scrapes /metrics (no token) and returns the value of every sample, keyed by `name{labels}`. */
async function scrape(): Promise<Map<string, number>> {
  const res = await app.request('/metrics');
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  return samplesOf(await res.text());
}

describe('GET /metrics', () => {
  it('counts accepted, waiting and finished jobs by type and status, rows applied, and queue depth', async () => {
    // Accepted while no worker runs: they wait in PostgreSQL.
    const single = await send(app, 'POST', '/admin/enrollments', { email: 'a@x.edu', name: 'A', course_name: 'Art' });
    const failing = await send(app, 'POST', '/admin/enrollments', { email: 'ghost@x.edu', course_name: 'Art' });
    const importRes = await uploadCsv(app, 'name,email,course_name\nB,b@x.edu,Art\nC,not-an-email,Art\n');
    const dryRun = await uploadCsv(app, 'name,email,course_name\nD,d@x.edu,Art\n', { query: 'dry_run=true' });
    expect([single.status, failing.status, importRes.status, dryRun.status]).toEqual([202, 202, 202, 202]);
    await handOverOnce(workerDeps); // what a worker's relay does: now one wake-up per queue names them in BullMQ

    const waiting = await scrape();
    expect(waiting.get('enroll_jobs_accepted_total{type="command"}')).toBe(2);
    expect(waiting.get('enroll_jobs_accepted_total{type="import"}')).toBe(2);
    expect(waiting.get('enroll_jobs{type="command",status="queued"}')).toBe(2);
    expect(waiting.get('enroll_jobs{type="import",status="queued"}')).toBe(2);
    expect(waiting.get('enroll_queue_jobs{queue="commands",state="waiting"}')).toBe(1);
    expect(waiting.get('enroll_queue_jobs{queue="imports",state="waiting"}')).toBe(1);
    expect(waiting.get('enroll_metrics_source_up{source="postgres"}')).toBe(1);
    // On the PostgreSQL backend the queues are read from PostgreSQL too: no other source.
    expect(waiting.get('enroll_metrics_source_up{source="redis"}')).toBe(TEST_QUEUE_BACKEND === 'redis' ? 1 : undefined);

    workers = await startWorkers(workerDeps);
    const ids = [single, failing, importRes, dryRun].map((r) => r.body.job_id as string);
    for (const id of ids) await waitForJob(app, id);
    // BullMQ marks a job completed just after PostgreSQL says it is finished: wait for the queues too.
    const done = await waitFor('BullMQ to report the jobs completed', async () => {
      const samples = await scrape();
      const completed = (queue: string) => samples.get(`enroll_queue_jobs{queue="${queue}",state="completed"}`);
      return completed('imports') === 1 && completed('commands') === 1 && samples;
    }, { timeoutMs: 10_000 });

    expect(done.get('enroll_jobs{type="command",status="completed"}')).toBe(1);
    expect(done.get('enroll_jobs{type="command",status="failed"}')).toBe(1);
    expect(done.get('enroll_jobs{type="import",status="completed_with_errors"}')).toBe(1);
    expect(done.get('enroll_jobs{type="import",status="completed"}')).toBe(1); // the dry run
    expect(done.has('enroll_jobs{type="command",status="queued"}')).toBe(false);
    expect(done.get('enroll_queue_jobs{queue="commands",state="waiting"}')).toBe(0);
    // Rows of real runs only: the dry run's row would have created a student but created none.
    expect(done.get('enroll_job_rows{type="import",count="rows"}')).toBe(2);
    expect(done.get('enroll_job_rows{type="import",count="invalid"}')).toBe(1);
    expect(done.get('enroll_job_rows{type="import",count="students_created"}')).toBe(1);
    expect([...done.keys()].some((k) => k.startsWith('enroll_job_rows{type="command"'))).toBe(false);
    // The request histogram, labelled by route pattern.
    expect(done.get('enroll_http_request_duration_seconds_count{method="POST",route="/api/v1/admin/imports",status="202"}')).toBe(2);
  });

  itRedis('still answers when Redis does not, and says which source is down', async () => {
    const deadRedis = createQueueBackend(testConfig({ REDIS_URL: 'redis://127.0.0.1:1', QUEUE_BACKEND: 'redis' }), 'api', api.logger);
    const queues = createQueues(deadRedis, () => {});
    try {
      const text = await createMetrics({ orm: api.orm, queues, queueBackend: deadRedis }).registry.metrics();
      expect(text).toContain('enroll_metrics_source_up{source="redis"} 0');
      expect(text).toContain('enroll_metrics_source_up{source="postgres"} 1');
      expect(text).toMatch(/enroll_jobs\{type="command",status="completed"\} 1/);
      expect(text).not.toContain('enroll_queue_jobs{');
    } finally {
      await queues.close().catch(() => {});
      await deadRedis.close();
    }
  });

  it('shows no counter sample while PostgreSQL cannot be read (a zero would read as a counter reset)', async () => {
    const closed = await initORM(TEST_DATABASE_URL, 1);
    await closed.close();
    const text = await createMetrics({ orm: closed, queues: api.queues, queueBackend: api.queueBackend }).registry.metrics();
    expect(text).toContain('enroll_metrics_source_up{source="postgres"} 0');
    expect(text).toContain('# TYPE enroll_jobs_finished_total counter');
    expect(text).not.toMatch(/^enroll_jobs_finished_total\{/m);
    expect(text).not.toMatch(/^enroll_import_rows_applied_total /m);
  });
});
