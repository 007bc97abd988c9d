import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Deps } from '../src/process/deps.js';
import type { App } from '../src/http/app.js';
import { closeWorkers, startWorkers } from '../workers/index.js';
import type { RunningWorker } from '../workers/running-worker.js';
import { truncateAll } from './support/deps.js';
import { ADMIN } from './support/env.js';
import { waitForJob } from './support/jobs.js';
import { waitFor } from './support/wait.js';
import { captureLogs } from './support/logs.js';
import { createTestService, type TestService } from './support/service.js';

/** The JSON lines the API and the worker logged, captured in memory. */
const { lines, logger } = captureLogs();

let service: TestService;
let api: Deps;
let workers: RunningWorker[];
let app: App;

beforeAll(async () => {
  service = await createTestService({ workerLogger: logger('info'), apiLogger: logger('info') });
  ({ api, app } = service);
  workers = await startWorkers(service.workerDeps);
  await truncateAll(api);
});
afterAll(async () => {
  await closeWorkers(workers);
  await service.close();
});

describe('logs', () => {
  it('every line about an import carries its job_id', async () => {
    const res = await app.request('/api/v1/admin/imports', {
      method: 'POST',
      headers: { ...ADMIN, 'Content-Type': 'text/csv' },
      body: 'name,email,course_name\nA,a@x.edu,Art\n',
    });
    const { job_id: jobId } = (await res.json()) as { job_id: string };
    await waitForJob(app, jobId);
    // The job is completed in the run's last transaction; the run logs its end just after.
    await waitFor('the import run to log its end', () => lines.some((l) => l.worker === 'imports' && l.msg === 'import run ended'));
    const about = lines.filter((l) => l.worker === 'imports');
    expect(about.map((l) => l.msg)).toEqual(expect.arrayContaining(['import run started', 'import run ended']));
    for (const line of about) expect(line).toMatchObject({ job_id: jobId });
  });

  it('a roster sync held for approval is one warn line with its job_id and the hold', async () => {
    // The file names Art without a@x.edu: the sweep would deactivate 1 of 1 enrollment in scope.
    const res = await app.request('/api/v1/admin/imports?mode=sync', {
      method: 'POST',
      headers: { ...ADMIN, 'Content-Type': 'text/csv' },
      body: 'name,email,course_name\nB,b@x.edu,Art\n',
    });
    const { job_id: jobId } = (await res.json()) as { job_id: string };
    await waitForJob(app, jobId, (j) => j.status === 'awaiting_approval');
    const held = await waitFor('the hold to be logged', () => lines.find((l) => l.msg === 'roster sync held for approval: nothing was applied'));
    expect(held).toMatchObject({ level: 40, worker: 'imports', job_id: jobId, hold: { reason: 'max_deactivate_percent', deactivations: 1, active_in_scope: 1 } });
  });

  it('the request line that accepted a job, and those of requests about it, carry its job_id beside the request_id', async () => {
    const res = await app.request('/api/v1/admin/enrollments', {
      method: 'POST',
      headers: { ...ADMIN, 'Content-Type': 'application/json' },
      body: JSON.stringify({ email: 'b@x.edu', name: 'B', course_name: 'Art' }),
    });
    const { job_id: jobId } = (await res.json()) as { job_id: string };
    await waitForJob(app, jobId);
    await app.request(`/api/v1/jobs/${jobId}/errors`, { headers: ADMIN });
    const requests = lines.filter((l) => l.msg === 'request' && l.job_id === jobId);
    expect(requests.map((l) => `${l.method} ${l.path}`)).toEqual(
      expect.arrayContaining(['POST /api/v1/admin/enrollments', `GET /api/v1/jobs/${jobId}`, `GET /api/v1/jobs/${jobId}/errors`]),
    );
    for (const line of requests) expect(line.request_id).toEqual(expect.any(String));
  });
});
