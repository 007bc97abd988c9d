import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { BENCH_REDIS, fmt, freshDatabase, median, PG_ADMIN, urlOfDatabase, startProcess, stop, waitForOutput, walBytes } from './support.js';
import { importOnce, revertOnce, sameRoster, sampleRss } from './upload.js';

/**
 * Imports benchmark (issue 4): a 1,000,000-row roster from ../shared/bench/gen-roster.mjs,
 * imported end to end (upload start → job completed) through a real API process and a real worker
 * process, fresh and then the same file again, side by side with the hand-written SQL baseline
 * (../shared/bench/sql-baseline/run.sh) on the same file. Prints times, ratios, rows per second
 * and the worker's peak RSS, and checks after each import that the service's tables hold exactly
 * the baseline's roster. `IMPORTS_BENCH_ROWS` and `IMPORTS_BENCH_ROUNDS` change the size and the
 * number of rounds (medians are printed); `IMPORTS_BENCH_WORKER_NODE_OPTIONS` sets the worker's
 * V8 flags (see the README on worker memory), `IMPORTS_BENCH_WRITERS` its IMPORT_WRITERS. After
 * the two imports the fresh one is reverted (every enrollment it created deactivated), timed and
 * checked. WAL bytes per row (pg_stat_wal, server-wide: on a quiet server only) are printed for the
 * baseline's two loads and the service's two imports.
 */

const ROWS = Number(process.env.IMPORTS_BENCH_ROWS ?? 1_000_000);
const ROUNDS = Number(process.env.IMPORTS_BENCH_ROUNDS ?? 1);
/** V8 flags for the worker process only: by default the heap cap `npm run start:worker` and docker-compose give it ('' for V8's defaults). */
const WORKER_NODE_OPTIONS = process.env.IMPORTS_BENCH_WORKER_NODE_OPTIONS ?? '--max-old-space-size=128 --max-semi-space-size=4';
/** Extra node flags for the worker that NODE_OPTIONS refuses, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`. */
const WORKER_NODE_ARGS = (process.env.IMPORTS_BENCH_WORKER_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
/** `IMPORTS_BENCH_BASELINE=0` skips the SQL baseline (for profiling runs only: no ratios). */
const BASELINE = process.env.IMPORTS_BENCH_BASELINE !== '0';
const PORT = 3902;
const DATA_DIR = 'bench/.data';

export function rosterFile(rows: number): string {
  mkdirSync(DATA_DIR, { recursive: true });
  const file = `${DATA_DIR}/roster-${rows}.csv`;
  if (!existsSync(file)) writeFileSync(file, execFileSync('node', ['../shared/bench/gen-roster.mjs', String(rows)], { maxBuffer: 1 << 30 }));
  return file;
}

export function sqlBaseline(file: string): { fresh: number; rerun: number } {
  const out = execFileSync('bash', ['../shared/bench/sql-baseline/run.sh', file, PG_ADMIN], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const m = /fresh_s=([\d.]+) rerun_s=([\d.]+)/.exec(out);
  if (!m) throw new Error(`unexpected baseline output: ${out}`);
  return { fresh: Number(m[1]), rerun: Number(m[2]) };
}

export async function runImportsBench(): Promise<void> {
  const file = rosterFile(ROWS);
  console.log(`file ${file}: ${ROWS.toLocaleString('en-US')} rows, ${fmt(statSync(file).size / 1024 / 1024)} MiB; ${ROUNDS} round(s); worker NODE_OPTIONS "${WORKER_NODE_OPTIONS}"`);
  const results = { baseFresh: [] as number[], baseRerun: [] as number[], fresh: [] as number[], rerun: [] as number[], revert: [] as number[], rss: [] as number[], baseWal: [] as number[], wal: [] as number[] };
  for (let round = 1; round <= ROUNDS; round++) {
    console.log(`round ${round}: SQL baseline`);
    const walBefore = await walBytes();
    const base = BASELINE ? sqlBaseline(file) : { fresh: NaN, rerun: NaN };
    results.baseWal.push((await walBytes()) - walBefore);
    console.log(`    fresh ${fmt(base.fresh, 2)} s, rerun ${fmt(base.rerun, 2)} s`);
    results.baseFresh.push(base.fresh);
    results.baseRerun.push(base.rerun);

    console.log(`round ${round}: service (API + worker processes)`);
    const databaseUrl = await freshDatabase('enroll_bench_imports');
    const env: Record<string, string> = { DATABASE_URL: databaseUrl, REDIS_URL: BENCH_REDIS, QUEUE_PREFIX: `bench-imports-${Date.now()}`, PORT: String(PORT), LOG_LEVEL: 'info' };
    if (process.env.IMPORTS_BENCH_WRITERS) env.IMPORT_WRITERS = process.env.IMPORTS_BENCH_WRITERS;
    const api = startProcess('dist/src/api.js', env);
    const workerEnv = WORKER_NODE_OPTIONS ? { ...env, NODE_OPTIONS: WORKER_NODE_OPTIONS } : env;
    const worker = startProcess('dist/workers/main.js', workerEnv, WORKER_NODE_ARGS);
    try {
      await Promise.all([waitForOutput(api, 'api listening'), waitForOutput(worker, 'workers started')]);
      const rss = sampleRss(worker.pid!);
      const baselineUrl = urlOfDatabase('enroll_sql_baseline');
      const walBefore = await walBytes();
      const fresh = await importOnce(PORT, file);
      if (BASELINE) await sameRoster(databaseUrl, baselineUrl);
      const rerun = await importOnce(PORT, file);
      results.wal.push((await walBytes()) - walBefore);
      if (fresh.job.counts.rows !== ROWS || rerun.job.counts.unchanged !== rerun.job.counts.valid) throw new Error('unexpected counts');
      if (BASELINE) await sameRoster(databaseUrl, baselineUrl);
      const revert = await revertOnce(PORT, fresh.job.id);
      results.rss.push(rss.stop());
      if (revert.job.status !== 'completed' || revert.job.counts.enrollments_deactivated !== fresh.job.counts.enrollments_created) throw new Error('unexpected revert counts');
      results.fresh.push(fresh.seconds);
      results.rerun.push(rerun.seconds);
      results.revert.push(revert.seconds);
    } finally {
      await Promise.all([stop(api), stop(worker)]);
    }
  }
  const [bf, br, f, r] = [median(results.baseFresh), median(results.baseRerun), median(results.fresh), median(results.rerun)];
  console.log('\nmedians:');
  console.log(`  SQL baseline   fresh ${fmt(bf, 2)} s   rerun ${fmt(br, 2)} s`);
  console.log(`  service import fresh ${fmt(f, 2)} s (${fmt(f / bf, 2)}x baseline, ${fmt(ROWS / f, 0)} rows/s)   rerun ${fmt(r, 2)} s (${fmt(r / br, 2)}x baseline, ${fmt(ROWS / r, 0)} rows/s)`);
  const rv = median(results.revert);
  console.log(`  revert of the fresh import ${fmt(rv, 2)} s (${fmt(rv / f, 2)}x the fresh import)`);
  console.log(`  WAL per row, fresh + rerun: SQL baseline ${fmt(median(results.baseWal) / ROWS, 0)} B, service ${fmt(median(results.wal) / ROWS, 0)} B (server-wide pg_stat_wal)`);
  console.log(`  worker peak RSS ${fmt(Math.max(...results.rss), 0)} MiB`);
}
