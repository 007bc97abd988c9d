import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { afterAll, beforeAll } from 'vitest';
import { createApp, type App } from '../../src/http/app.js';
import type { Deps } from '../../src/process/deps.js';
import type { Config } from '../../src/process/config.js';
import { createTestDeps } from './deps.js';
import { waitFor } from './wait.js';

/**
 * Starts one of the service's entry points as a real process with the test's config. Always
 * `node --import tsx` in this process's node: the tsx CLI would fork a grandchild that a SIGKILL
 * of the child does not reach.
 */
export function spawnService(
  entry: 'src/api.ts' | 'workers/main.ts',
  config: Config,
  env: Record<string, string> = {},
  stdout: 'inherit' | 'pipe' = 'inherit',
): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', entry], {
    env: {
      ...process.env,
      NODE_ENV: 'test',
      DATABASE_URL: config.databaseUrl,
      REDIS_URL: config.redisUrl,
      QUEUE_BACKEND: config.queueBackend,
      QUEUE_PREFIX: config.queuePrefix,
      ADMIN_TOKEN: config.adminToken,
      READ_TOKEN: config.readToken,
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
      ...env,
    },
    stdio: ['ignore', stdout, 'inherit'],
  });
}

/** `npm run start:worker`'s entry point as a real process. */
export const spawnWorker = (config: Config): ChildProcess => spawnService('workers/main.ts', config);

/** What a test file that starts real worker processes works with (workerProcesses). */
export type WorkerProcesses = { api: Deps; app: App; worker(expected: number): Promise<ChildProcess> };

/**
 * For a test file that starts, and kills, real worker processes: the API's deps and app in this
 * process, made before the file's tests, and `worker(expected)`, which starts a worker process and
 * waits until the imports queue sees `expected` workers. After the file's tests the workers still
 * running are killed, the queues obliterated and the deps closed.
 */
export function workerProcesses(config: Config): WorkerProcesses {
  const children: ChildProcess[] = [];
  const procs = {
    async worker(expected: number) {
      const child = spawnWorker(config);
      children.push(child);
      await waitFor(`${expected} import worker(s) connected`, async () => (await procs.api.queues.imports.getWorkersCount()) >= expected, { timeoutMs: 30_000 });
      return child;
    },
  } as WorkerProcesses;
  beforeAll(async () => {
    procs.api = await createTestDeps('api', config);
    procs.app = createApp(procs.api);
  });
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    if (!procs.api) return;
    await procs.api.queues.imports.obliterate({ force: true }).catch(() => {});
    await procs.api.queues.commands.obliterate({ force: true }).catch(() => {});
    await procs.api.close();
  });
  return procs;
}

/** `npm run start:api`'s entry point as a real process on `port`. */
export const spawnApi = (config: Config, port: number): ChildProcess => spawnService('src/api.ts', config, { PORT: String(port) });

/** A TCP port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Resolves with the exit code (or signal) once the process has exited. */
export function exited(child: ChildProcess): Promise<number | NodeJS.Signals | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode ?? child.signalCode);
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
}

/** Waits until an API process answers `GET /healthz` at `base` (say `http://127.0.0.1:3000`). */
export async function waitForApi(base: string, timeoutMs = 30_000): Promise<void> {
  await waitFor(`the API at ${base} to answer`, async () => (await fetch(`${base}/healthz`).catch(() => null))?.ok === true, { timeoutMs, everyMs: 100 });
}
