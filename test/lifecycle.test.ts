import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { Deps } from '../src/process/deps.js';
import { createTestDeps, truncateAll } from './support/deps.js';
import { testConfig, itRedis } from './support/env.js';
import { exited, freePort, spawnApi, spawnService, spawnWorker, waitForApi } from './support/processes.js';
import { waitFor } from './support/wait.js';

const config = testConfig();
let deps: Deps;
beforeAll(async () => {
  deps = await createTestDeps('api', config);
  await truncateAll(deps);
});
afterAll(async () => {
  await deps.queues.commands.obliterate({ force: true });
  await deps.close();
});

describe('SIGTERM (CONTRACT §5)', () => {
  it('the API stops accepting, cuts a long-lived event stream after its grace period, and exits 0', async () => {
    const port = await freePort();
    const api = spawnApi(config, port);
    const url = `http://127.0.0.1:${port}`;
    await waitForApi(url);
    const auth = { Authorization: `Bearer ${config.adminToken}`, 'Content-Type': 'application/json' };
    // No worker runs: the job stays queued and its event stream stays open.
    const accepted = await (await fetch(`${url}/api/v1/admin/enrollments`, { method: 'POST', headers: auth, body: JSON.stringify({ email: 'a@x.edu', name: 'A', course_name: 'Art' }) })).json();
    const events = await fetch(`${url}/api/v1/jobs/${accepted.job_id}/events`, { headers: auth });
    expect(events.status).toBe(200);
    const reading = events.text().catch(() => 'cut');

    const stoppedAt = Date.now();
    api.kill('SIGTERM');
    expect(await exited(api)).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(15_000);
    await reading;
    expect(await fetch(`${url}/healthz`).catch(() => 'refused')).toBe('refused');
  });

  it('`npm run start:api` hands SIGTERM on to the API, as a process manager that signals npm expects', async () => {
    const port = await freePort();
    const npm = spawn('npm', ['run', '--silent', 'start:api'], {
      env: { ...process.env, NODE_ENV: 'test', DATABASE_URL: config.databaseUrl, REDIS_URL: config.redisUrl, QUEUE_BACKEND: config.queueBackend, QUEUE_PREFIX: config.queuePrefix, ADMIN_TOKEN: config.adminToken, READ_TOKEN: config.readToken, LOG_LEVEL: 'warn', PORT: String(port) },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    const url = `http://127.0.0.1:${port}`;
    await waitForApi(url, 60_000);
    npm.kill('SIGTERM');
    expect(await exited(npm)).toBe(0);
    // Not left behind, orphaned and still listening.
    expect(await fetch(`${url}/healthz`).catch(() => 'refused')).toBe('refused');
  }, 90_000);

  itRedis('a worker cut off from Redis, with a job to hand over, stops at once and exits 0', async () => {
    // A job for the relay to hand over: with Redis cut off it must not hold the worker up.
    const [{ id }] = await deps.orm.em.getConnection().execute<[{ id: string }]>(
      `insert into jobs (id, type, payload, total, counts) values (gen_random_uuid(), 'command', '{"commands":[]}', 1, '{}') returning id`,
    );
    onTestFinished(async () => void (await deps.orm.em.getConnection().execute(`delete from jobs where id = ?`, [id])));
    const worker = spawnService('workers/main.ts', testConfig({ REDIS_URL: 'redis://127.0.0.1:1' }), { LOG_LEVEL: 'info' }, 'pipe');
    let out = '';
    worker.stdout!.on('data', (chunk) => (out += chunk));
    await waitFor('the worker to start', () => out.includes('workers started'), { timeoutMs: 30_000, everyMs: 100 });
    const stoppedAt = Date.now();
    worker.kill('SIGTERM');
    expect(await exited(worker)).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(10_000); // not the 30 s shutdown deadline
  }, 60_000);

  it('a worker closes its connections and exits 0', async () => {
    const worker = spawnWorker(config);
    await waitFor('the worker to connect', async () => (await deps.queues.commands.getWorkers()).length > 0, { timeoutMs: 30_000, everyMs: 100 });
    worker.kill('SIGTERM');
    expect(await exited(worker)).toBe(0);
  });
});
