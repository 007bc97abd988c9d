import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { BENCH_REDIS, fmt, freshDatabase, median, PG_ADMIN, startProcess, stop, urlOfDatabase, waitForOutput, walBytes } from './support.js';
import { importOnce, sameRoster, sampleRss } from './upload.js';

/**
 * Nightly sync benchmark (issue 14): `gen-roster.mjs STUDENTS --per-student 3` is night 0 (each
 * student in 3 courses), the same with `--night 1` the next night (0.5% of the enrollments dropped,
 * 1% moved, 0.5% new students). Each night is imported as a `mode=sync` import end to end (upload
 * start → completed) by a real API and worker process, night 0 on an empty database and night 1
 * over it, side by side with the hand-written SQL sync (../shared/bench/sql-baseline/run-sync.sh)
 * of the same files; after each night the service's roster must equal the baseline's. Prints the
 * times, ratios and the worker's peak RSS. `SYNC_BENCH_STUDENTS` (default 330,000) and
 * `SYNC_BENCH_ROUNDS` change the size and rounds (medians printed); `SYNC_BENCH_WRITERS` the
 * worker's IMPORT_WRITERS. WAL bytes per row of both nights (pg_stat_wal, server-wide: on a quiet
 * server only) are printed for both.
 */

const STUDENTS = Number(process.env.SYNC_BENCH_STUDENTS ?? 330_000);
const ROUNDS = Number(process.env.SYNC_BENCH_ROUNDS ?? 1);
const WORKER_NODE_OPTIONS = process.env.IMPORTS_BENCH_WORKER_NODE_OPTIONS ?? '--max-old-space-size=128 --max-semi-space-size=4';
const PORT = 3903;
const DATA_DIR = 'bench/.data';

function nightFile(night: number): string {
  mkdirSync(DATA_DIR, { recursive: true });
  const file = `${DATA_DIR}/sync-${STUDENTS}-night${night}.csv`;
  const args = ['../shared/bench/gen-roster.mjs', String(STUDENTS), '--per-student', '3', ...(night ? ['--night', String(night)] : [])];
  if (!existsSync(file)) writeFileSync(file, execFileSync('node', args, { maxBuffer: 1 << 30 }));
  return file;
}

function sqlBaseline(night0: string, night1: string): { first: number; night: number } {
  const out = execFileSync('bash', ['../shared/bench/sql-baseline/run-sync.sh', night0, night1, PG_ADMIN], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const m = /first_s=([\d.]+) night_s=([\d.]+)/.exec(out);
  if (!m) throw new Error(`unexpected baseline output: ${out}`);
  return { first: Number(m[1]), night: Number(m[2]) };
}

export async function runSyncBench(): Promise<void> {
  const [night0, night1] = [nightFile(0), nightFile(1)];
  console.log(`files ${night0} (${fmt(statSync(night0).size / 1024 / 1024)} MiB) and ${night1}; ${STUDENTS.toLocaleString('en-US')} students x 3 courses; ${ROUNDS} round(s)`);
  const results = { baseFirst: [] as number[], baseNight: [] as number[], first: [] as number[], night: [] as number[], rss: [] as number[], baseWal: [] as number[], wal: [] as number[] };
  for (let round = 1; round <= ROUNDS; round++) {
    console.log(`round ${round}: SQL baseline (run-sync.sh)`);
    const walBefore = await walBytes();
    const base = sqlBaseline(night0, night1);
    results.baseWal.push((await walBytes()) - walBefore);
    console.log(`    night 0 ${fmt(base.first, 2)} s, night 1 ${fmt(base.night, 2)} s`);
    results.baseFirst.push(base.first);
    results.baseNight.push(base.night);

    console.log(`round ${round}: service (API + worker processes)`);
    const databaseUrl = await freshDatabase('enroll_bench_sync');
    const env: Record<string, string> = { DATABASE_URL: databaseUrl, REDIS_URL: BENCH_REDIS, QUEUE_PREFIX: `bench-sync-${Date.now()}`, PORT: String(PORT), LOG_LEVEL: 'info' };
    if (process.env.SYNC_BENCH_WRITERS) env.IMPORT_WRITERS = process.env.SYNC_BENCH_WRITERS;
    const api = startProcess('dist/src/api.js', env);
    const worker = startProcess('dist/workers/main.js', WORKER_NODE_OPTIONS ? { ...env, NODE_OPTIONS: WORKER_NODE_OPTIONS } : env);
    try {
      await Promise.all([waitForOutput(api, 'api listening'), waitForOutput(worker, 'workers started')]);
      const rss = sampleRss(worker.pid!);
      const walBefore = await walBytes();
      const first = await importOnce(PORT, night0, 'mode=sync');
      const night = await importOnce(PORT, night1, 'mode=sync');
      results.wal.push((await walBytes()) - walBefore);
      results.rss.push(rss.stop());
      await sameRoster(databaseUrl, urlOfDatabase('enroll_sql_sync'));
      results.first.push(first.seconds);
      results.night.push(night.seconds);
    } finally {
      await Promise.all([stop(api), stop(worker)]);
    }
  }
  const [bf, bn, f, n] = [median(results.baseFirst), median(results.baseNight), median(results.first), median(results.night)];
  console.log('\nmedians:');
  console.log(`  SQL baseline  night 0 ${fmt(bf, 2)} s   night 1 ${fmt(bn, 2)} s`);
  console.log(`  service sync  night 0 ${fmt(f, 2)} s (${fmt(f / bf, 2)}x baseline)   night 1 ${fmt(n, 2)} s (${fmt(n / bn, 2)}x baseline)`);
  const rows = [night0, night1].reduce((n, f) => n + Number(execFileSync('wc', ['-l', f], { encoding: 'utf8' }).trim().split(/\s+/)[0]) - 1, 0);
  console.log(`  WAL per row, both nights: SQL baseline ${fmt(median(results.baseWal) / rows, 0)} B, service ${fmt(median(results.wal) / rows, 0)} B (server-wide pg_stat_wal)`);
  console.log(`  worker peak RSS ${fmt(Math.max(...results.rss), 0)} MiB`);
}
