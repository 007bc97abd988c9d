import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeps, type Deps } from '../src/deps.js';
import { createApp, type App } from '../src/http/app.js';
import { closeWorkers, startWorkers, type RunningWorker } from '../workers/index.js';
import { createTestDeps, truncateAll } from './support/deps.js';
import { ADMIN, testConfig } from './support/env.js';
import { waitForJob } from './support/jobs.js';

/** The JSON lines a worker process logged, captured in memory. */
const lines: Array<Record<string, unknown>> = [];
const capture = new Writable({
  write(chunk, _encoding, done) {
    for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
    done();
  },
});

let api: Deps;
let workerDeps: Deps;
let workers: RunningWorker[];
let app: App;

beforeAll(async () => {
  const config = testConfig();
  api = await createTestDeps('api', config);
  workerDeps = await createDeps(config, 'worker', pino({ level: 'info' }, capture));
  workers = await startWorkers(workerDeps);
  app = createApp(api);
  await truncateAll(api);
});
afterAll(async () => {
  await closeWorkers(workers);
  await api.queues.imports.obliterate({ force: true });
  await Promise.all([api.close(), workerDeps.close()]);
});

describe('worker logs', () => {
  it('every line about an import carries its job_id', async () => {
    const res = await app.request('/api/v1/admin/imports', {
      method: 'POST',
      headers: { ...ADMIN, 'Content-Type': 'text/csv' },
      body: 'name,email,course_name\nA,a@x.edu,Art\n',
    });
    const { job_id: jobId } = (await res.json()) as { job_id: string };
    await waitForJob(app, jobId);
    const about = lines.filter((l) => l.worker === 'imports');
    expect(about.map((l) => l.msg)).toEqual(expect.arrayContaining(['import run started', 'import run ended']));
    for (const line of about) expect(line).toMatchObject({ job_id: jobId });
  });
});
