import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Deps } from '../src/deps.js';
import { handOverOnce } from '../src/jobs/relay.js';
import { createMetrics } from '../src/metrics.js';
import { createQueues } from '../src/queues/queues.js';
import { createRedis } from '../src/redis.js';
import type { App } from '../src/http/app.js';
import { closeWorkers, startWorkers, type RunningWorker } from '../workers/index.js';
import { truncateAll } from './support/deps.js';
import { ADMIN } from './support/env.js';
import { send, waitForJob } from './support/jobs.js';
import { createTestService, type TestService } from './support/service.js';

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
  const samples = new Map<string, number>();
  for (const line of (await res.text()).split('\n')) {
    const m = /^(\w+(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (m) samples.set(m[1]!, Number(m[2]));
  }
  return samples;
}

const uploadCsv = (csv: string, query = '') =>
  app.request(`/api/v1/admin/imports${query}`, { method: 'POST', headers: { ...ADMIN, 'Content-Type': 'text/csv' }, body: csv });

describe('GET /metrics', () => {
  it('counts accepted, waiting and finished jobs by type and status, rows applied, and queue depth', async () => {
    // Accepted while no worker runs: they wait in PostgreSQL.
    const single = await send(app, 'POST', '/admin/enrollments', { email: 'a@x.edu', name: 'A', course_name: 'Art' });
    const failing = await send(app, 'POST', '/admin/enrollments', { email: 'ghost@x.edu', course_name: 'Art' });
    const importRes = await uploadCsv('name,email,course_name\nB,b@x.edu,Art\nC,not-an-email,Art\n');
    const dryRun = await uploadCsv('name,email,course_name\nD,d@x.edu,Art\n', '?dry_run=true');
    expect([single.status, failing.status, importRes.status, dryRun.status]).toEqual([202, 202, 202, 202]);
    await handOverOnce(workerDeps); // what a worker's relay does: now they wait in BullMQ too

    const waiting = await scrape();
    expect(waiting.get('enroll_jobs_accepted_total{type="command"}')).toBe(2);
    expect(waiting.get('enroll_jobs_accepted_total{type="import"}')).toBe(2);
    expect(waiting.get('enroll_jobs{type="command",status="queued"}')).toBe(2);
    expect(waiting.get('enroll_jobs{type="import",status="queued"}')).toBe(2);
    expect(waiting.get('enroll_queue_jobs{queue="commands",state="waiting"}')).toBe(2);
    expect(waiting.get('enroll_queue_jobs{queue="imports",state="waiting"}')).toBe(2);
    expect(waiting.get('enroll_metrics_source_up{source="postgres"}')).toBe(1);
    expect(waiting.get('enroll_metrics_source_up{source="redis"}')).toBe(1);

    workers = await startWorkers(workerDeps);
    const ids = [single, failing].map((r) => r.body.job_id as string).concat([await importRes.json(), await dryRun.json()].map((b) => b.job_id));
    for (const id of ids) await waitForJob(app, id);
    // BullMQ marks a job completed just after PostgreSQL says it is finished: wait for the queues too.
    const deadline = Date.now() + 10_000;
    let done = await scrape();
    while (done.get('enroll_queue_jobs{queue="imports",state="completed"}') !== 2 || done.get('enroll_queue_jobs{queue="commands",state="completed"}') !== 2) {
      if (Date.now() > deadline) throw new Error('BullMQ did not report the jobs completed');
      await new Promise((r) => setTimeout(r, 50));
      done = await scrape();
    }

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

  it('still answers when Redis does not, and says which source is down', async () => {
    const deadRedis = createRedis('redis://127.0.0.1:1', 'producer');
    deadRedis.on('error', () => {});
    const queues = createQueues(deadRedis, 'nowhere', () => {});
    try {
      const text = await createMetrics({ orm: api.orm, queues }).registry.metrics();
      expect(text).toContain('enroll_metrics_source_up{source="redis"} 0');
      expect(text).toContain('enroll_metrics_source_up{source="postgres"} 1');
      expect(text).toMatch(/enroll_jobs\{type="command",status="completed"\} 1/);
      expect(text).not.toContain('enroll_queue_jobs{');
    } finally {
      await queues.close().catch(() => {});
      deadRedis.disconnect();
    }
  });
});
