import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Config } from '../../src/process/config.js';
import type { Deps } from '../../src/process/deps.js';
import { createTestDeps, truncateAll } from './deps.js';
import { testConfig } from './env.js';
import { exited, freePort, spawnApi, spawnWorker, waitForApi } from './processes.js';

const ENROLL = resolve('bin/enroll.js');

export type CliRun = { code: number | null; stdout: string; stderr: string };

/** A real API and worker over emptied tables, and the `enroll` command run against them as a user would. */
export type CliService = {
  config: Config;
  deps: Deps;
  url: string;
  dir: string;
  /**
   * Runs the CLI from another directory, with the admin token unless told otherwise; its stdin is
   * a pipe that gives `input`, or nothing.
   */
  enroll(args: string[], env?: Record<string, string>, input?: string): Promise<CliRun>;
  /** Writes a file in the CLI's directory and returns its name. */
  file(name: string, text: string): string;
  sql<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  stop(): Promise<void>;
};

export async function startCliService(): Promise<CliService> {
  const config = testConfig();
  const deps = await createTestDeps('api', config);
  await truncateAll(deps);
  const dir = mkdtempSync(join(tmpdir(), 'enroll-cli-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const children: ChildProcess[] = [spawnApi(config, port), spawnWorker(config)];
  await waitForApi(url);
  return {
    config,
    deps,
    url,
    dir,
    enroll(args, env = {}, input) {
      const child = spawn(process.execPath, [ENROLL, ...args], {
        cwd: dir,
        env: { PATH: process.env.PATH ?? '', ENROLL_URL: url, ENROLL_TOKEN: config.adminToken, ...env },
        stdio: 'pipe',
      });
      child.stdin.end(input);
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
    },
    file(name, text) {
      writeFileSync(join(dir, name), text);
      return name;
    },
    sql: (text, params = []) => deps.orm.em.getConnection().execute(text, params),
    async stop() {
      for (const child of children) child.kill('SIGTERM');
      await Promise.all(children.map(exited));
      await Promise.all([deps.queues.commands.obliterate({ force: true }), deps.queues.imports.obliterate({ force: true })]);
      await deps.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The lines of a CSV download, without the empty last one. */
export const csvLines = (text: string): string[] => text.split(/\r?\n/).filter(Boolean);

/** The job id in the first line of a summary (`Job <id> (<type>): …`). */
export const jobIdOf = (summary: string): string => /^Job ([0-9a-f-]{36}) /m.exec(summary)?.[1] ?? '';
