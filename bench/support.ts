import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import { migrate } from '../src/db/migrate.js';
import { initORM } from '../src/db/orm.js';
import { handOverOnce } from '../src/jobs/relay.js';
import { loadConfig } from '../src/process/config.js';
import { createQueueBackend } from '../src/queues/backend.js';
import { createQueues } from '../src/queues/queues.js';

/** Shared pieces of the benchmarks: fresh databases, child processes, percentiles. */

export const PG_ADMIN = process.env.BENCH_PG_ADMIN ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const BENCH_REDIS = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/10';
export const TOKENS = { admin: 'bench-admin-token-0123456789', read: 'bench-read-token-01234567890' };

/** The URL of database `name` on the server of PG_ADMIN (its user, host and query string kept). */
export function urlOfDatabase(name: string): string {
  const url = new URL(PG_ADMIN);
  url.pathname = `/${encodeURIComponent(name)}`;
  return url.toString();
}

/** Drops and recreates database `name` with every migration (BullMQ's too with `queueSchema`); returns its URL. */
export async function freshDatabase(name: string, opts: { queueSchema?: boolean } = {}): Promise<string> {
  const admin = new pg.Client({ connectionString: PG_ADMIN });
  await admin.connect();
  await admin.query(`drop database if exists ${pg.escapeIdentifier(name)} with (force)`);
  await admin.end();
  const url = urlOfDatabase(name);
  await migrate(url, pino({ level: 'silent' }), opts);
  return url;
}

/** Compiles the service (`npm run build`): the benchmarks run what production runs, the compiled JavaScript. */
export function buildService(): void {
  execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
}

/** A started service process, with the file its stdout (its log) goes to. */
export type ServiceProcess = ChildProcess & { logFile: string };

/**
 * Starts one of the service's compiled entry points (`dist/…`, see buildService) as its own
 * process. Its log goes to a file under bench/.data/logs (kept for a look afterwards), as a
 * container's log would: not through a pipe into this process, which runs the load generator.
 */
export function startProcess(entry: string, env: Record<string, string>, nodeArgs: string[] = []): ServiceProcess {
  mkdirSync(LOG_DIR, { recursive: true });
  const logFile = `${LOG_DIR}/${path.basename(entry, '.js')}-${Date.now()}.log`;
  const out = openSync(logFile, 'w');
  const child = spawn(process.execPath, [...nodeArgs, entry], {
    env: { ...process.env, NODE_ENV: 'production', LOG_LEVEL: 'warn', ADMIN_TOKEN: TOKENS.admin, READ_TOKEN: TOKENS.read, ...env },
    stdio: ['ignore', out, 'inherit'],
  });
  closeSync(out);
  return Object.assign(child, { logFile });
}

const LOG_DIR = 'bench/.data/logs';

/** Resolves once the process has logged a line containing `text`. */
export async function waitForOutput(child: ServiceProcess, text: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!readFileSync(child.logFile, 'utf8').includes(text)) {
    if (child.exitCode !== null) throw new Error(`${child.logFile}: the process exited (${child.exitCode}) before "${text}"`);
    if (Date.now() > deadline) throw new Error(`${child.logFile}: no "${text}" within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Stops a child with SIGTERM and waits for it. */
export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await done;
}

/** Polls until `check` is true; returns the seconds it took. */
export async function timeUntil(check: () => Promise<boolean>, everyMs = 50, timeoutMs = 600_000): Promise<number> {
  const start = performance.now();
  while (!(await check())) {
    if (performance.now() - start > timeoutMs) throw new Error('benchmark step timed out');
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return (performance.now() - start) / 1000;
}

/**
 * The relay's work alone, in this process (the API only committed the jobs; relay.ts hands them to
 * BullMQ), so that the polls that follow have every job waiting: jobs handed over per second, and
 * the wake-ups left waiting in the commands queue.
 */
export async function handOverAll(env: Record<string, string>): Promise<{ rate: number; waiting: number }> {
  const orm = await initORM(env.DATABASE_URL!, 2);
  const config = loadConfig(env);
  const queueBackend = createQueueBackend(config, 'api', pino({ level: 'silent' }));
  const queues = createQueues(queueBackend, (err) => console.error(`bench queue error: ${err.message}`));
  await queueBackend.ping(); // connected: a hand-over is not even tried before (relay.ts)
  try {
    let handed = 0;
    const seconds = await timeUntil(async () => {
      const n = await handOverOnce({ orm, queues, queueBackend });
      handed += n;
      return n === 0;
    }, 0);
    const waiting = (await queues.commands.getJobCounts('wait')).wait ?? 0;
    return { rate: handed / seconds, waiting };
  } finally {
    await queues.close();
    await queueBackend.close();
    await orm.close();
  }
}

/** PostgreSQL's WAL bytes written so far, server-wide (pg_stat_wal): a delta around a step is that step's WAL, plus whatever else the server did meanwhile. */
export async function walBytes(): Promise<number> {
  const client = new pg.Client({ connectionString: PG_ADMIN });
  await client.connect();
  try {
    return Number((await client.query<{ b: string }>('select wal_bytes as b from pg_stat_wal')).rows[0]!.b);
  } finally {
    await client.end();
  }
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export const fmt = (n: number, digits = 1) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
