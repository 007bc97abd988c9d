import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alive } from '../../src/dev/embedded-postgres.js';
import { exited, freePort, waitForApi } from '../support/processes.js';

/**
 * `npm run dev` (CONTRACT §8) as a real process on an empty data directory, used over HTTP,
 * stopped with SIGINT, started again. It needs nothing the test run has: its own PostgreSQL, no Redis.
 */
const ADMIN = { Authorization: 'Bearer dev-admin-token', 'Content-Type': 'application/json' };
const READ = { Authorization: 'Bearer dev-read-token' };

let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'enroll-dev-'));
  await chmod(dataDir, 0o755); // as root the server runs as the user postgres, which must reach its directory
});
afterAll(async () => rm(dataDir, { recursive: true, force: true }));

type Dev = { child: ChildProcess; base: string; output: () => string };

/** `npm run dev` itself (npm, then node), in a process group of its own as a terminal would start it. */
async function startDev(env: Record<string, string> = {}): Promise<Dev> {
  const port = await freePort();
  const child = spawn('npm', ['run', '--silent', 'dev'], {
    env: { ...process.env, NODE_ENV: 'development', DEV_DATA_DIR: dataDir, PORT: String(port), DEV_POSTGRES_PORT: String(await freePort()), LOG_LEVEL: 'warn', QUEUE_BACKEND: '', ADMIN_TOKEN: '', READ_TOKEN: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return { child, base: `http://127.0.0.1:${port}`, output: () => out };
}

const postmasterPid = async () => Number((await readFile(path.join(dataDir, 'postgres', 'postmaster.pid'), 'utf8')).split('\n')[0]);

async function waitForJob(base: string, id: string) {
  for (let i = 0; i < 200; i++) {
    const job = (await (await fetch(`${base}/api/v1/jobs/${id}`, { headers: READ })).json()) as { status: string; counts: Record<string, number> };
    if (!['queued', 'running'].includes(job.status)) return job;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`job ${id} did not finish`);
}

describe('npm run dev: the whole service on an embedded PostgreSQL, nothing else installed', () => {
  it('serves a command, an import and a poll; SIGINT to its group stops it and the database (exit 0); a second start keeps the data', async () => {
    const first = await startDev();
    await waitForApi(first.base, 90_000).catch((err: Error) => {
      throw new Error(`${err.message}; its output: ${first.output()}`);
    });
    expect(first.output()).toContain(`listening on http://localhost:`);
    expect(first.output()).toContain('dev-admin-token');
    expect(first.output()).toContain(dataDir);
    expect(await (await fetch(`${first.base}/readyz`)).json()).toEqual({ status: 'ready', checks: { postgres: { ok: true } } });

    const command = await fetch(`${first.base}/api/v1/admin/enrollments`, { method: 'POST', headers: ADMIN, body: JSON.stringify({ email: 'ada@x.edu', name: 'Ada', course_name: 'Maths' }) });
    expect(command.status).toBe(202);
    const upload = await fetch(`${first.base}/api/v1/admin/imports`, { method: 'POST', headers: { ...ADMIN, 'Content-Type': 'text/csv' }, body: 'name,email,course_name\nBob,bob@x.edu,Art\nCy,cy@x.edu,Art\n' });
    expect(upload.status).toBe(202);
    expect((await waitForJob(first.base, ((await command.json()) as { job_id: string }).job_id)).status).toBe('completed');
    expect(await waitForJob(first.base, ((await upload.json()) as { job_id: string }).job_id)).toMatchObject({ status: 'completed', counts: { students_created: 2 } });

    // A second one on the same data while the first runs: refused, the first untouched.
    const second = await startDev();
    expect(await exited(second.child)).toBe(1);
    expect(second.output()).toMatch(/already running on .*\(pid \d+\)/);
    expect((await fetch(`${first.base}/healthz`)).status).toBe(200);

    // Ctrl-C in a terminal: SIGINT to the whole group (npm and node); the database is stopped last.
    const pgPid = await postmasterPid();
    expect(alive(pgPid)).toBe(true);
    process.kill(-first.child.pid!, 'SIGINT');
    expect(await exited(first.child)).toBe(0);
    expect(alive(pgPid)).toBe(false);

    // Again, SIGINT to the service's process alone this time: the data is still there.
    const again = await startDev();
    await waitForApi(again.base, 90_000);
    const students = (await (await fetch(`${again.base}/api/v1/students?limit=10`, { headers: READ })).json()) as { data?: Array<{ email: string }>; items?: Array<{ email: string }> };
    const emails = (students.data ?? students.items ?? []).map((s) => s.email).sort();
    expect(emails).toEqual(['ada@x.edu', 'bob@x.edu', 'cy@x.edu']);
    const againPg = await postmasterPid();
    again.child.kill('SIGINT');
    expect(await exited(again.child)).toBe(0);
    expect(alive(againPg)).toBe(false);
  }, 240_000);

  it('is refused with NODE_ENV=production', async () => {
    const prod = await startDev({ NODE_ENV: 'production' });
    expect(await exited(prod.child)).toBe(1);
    expect(prod.output()).toContain('refused with NODE_ENV=production');
  });
});
