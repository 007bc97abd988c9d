import { execFile } from 'node:child_process';
import { mkdtempSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Deps } from '../src/process/deps.js';
import { startHeartbeat } from '../src/process/readiness.js';
import { createTestDeps } from './support/deps.js';
import { testConfig, itRedis } from './support/env.js';
import { captureLogs } from './support/logs.js';
import { exited, spawnService } from './support/processes.js';
import { waitFor } from './support/wait.js';

const dir = mkdtempSync(path.join(tmpdir(), 'heartbeat-'));
const silent = testConfig();
let deps: Deps;
beforeAll(async () => void (deps = await createTestDeps('worker', silent)));
afterAll(() => deps.close());

/** Runs the container health check on `file`. */
const healthCheck = (file: string) =>
  new Promise<{ code: number; stderr: string }>((resolve) =>
    execFile('node_modules/.bin/tsx', ['src/cli/heartbeat-check.ts', file], (err, _stdout, stderr) => resolve({ code: err ? Number(err.code) : 0, stderr })),
  );

describe('the worker heartbeat (docker-compose health check of a worker)', () => {
  itRedis('is written while PostgreSQL and Redis answer, and withheld when Redis does not', async () => {
    const file = path.join(dir, 'up');
    const stop = startHeartbeat(deps, file, deps.logger, 50);
    const first = await waitFor('a heartbeat', () => statSafe(file), { timeoutMs: 5_000 });
    await waitFor('a second heartbeat', () => statSafe(file)! > first, { timeoutMs: 5_000 });
    stop();

    // A worker's connection, as in a real worker: it retries for ever.
    const cutOff = await createTestDeps('worker', testConfig({ REDIS_URL: 'redis://127.0.0.1:1' }));
    try {
      const none = path.join(dir, 'down');
      const { lines, logger } = captureLogs();
      const stopDown = startHeartbeat(cutOff, none, logger('warn'), 50);
      // A beat has looked at PostgreSQL and Redis, found Redis down and said so: it had its chance to write.
      await waitFor('a beat to withhold the heartbeat', () => lines.some((l) => l.msg === 'not ready: heartbeat withheld'), { timeoutMs: 10_000 });
      stopDown();
      expect(statSafe(none)).toBeNull();
    } finally {
      await cutOff.close();
    }
  });

  it('the health check passes on a fresh heartbeat and fails on a stale or missing one', async () => {
    const file = path.join(dir, 'check');
    writeFileSync(file, 'now\n');
    expect(await healthCheck(file)).toEqual({ code: 0, stderr: '' });
    const minuteAgo = new Date(Date.now() - 60_000);
    utimesSync(file, minuteAgo, minuteAgo);
    expect(await healthCheck(file)).toMatchObject({ code: 1, stderr: expect.stringMatching(/^heartbeat .* is 6\d s old \(more than 30 s\)\n$/) });
    expect(await healthCheck(path.join(dir, 'missing'))).toMatchObject({ code: 1, stderr: expect.stringMatching(/^no heartbeat: /) });
  }, 60_000);

  it('a worker process writes it when WORKER_HEARTBEAT_FILE is set', async () => {
    const file = path.join(dir, 'worker');
    const worker = spawnService('workers/main.ts', silent, { WORKER_HEARTBEAT_FILE: file });
    try {
      await waitFor('the worker heartbeat', () => statSafe(file), { timeoutMs: 30_000, everyMs: 100 });
      expect(await healthCheck(file)).toEqual({ code: 0, stderr: '' });
    } finally {
      worker.kill('SIGTERM');
      expect(await exited(worker)).toBe(0);
    }
  }, 60_000);
});

/** The file's modification time, or null when it does not exist. */
function statSafe(file: string): number | null {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return null;
  }
}
