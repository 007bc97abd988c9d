import autocannon from 'autocannon';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { QueueBackendKind } from '../src/queues/backend.js';
import { rosterFile, sqlBaseline } from './imports.bench.js';
import { BENCH_REDIS, fmt, freshDatabase, handOverAll, median, startProcess, stop, timeUntil, TOKENS, urlOfDatabase, waitForOutput } from './support.js';
import { importOnce, sameRoster } from './upload.js';

/**
 * Queue backends benchmark (issue 16, CONTRACT §8): the same measurements on QUEUE_BACKEND=redis
 * and QUEUE_BACKEND=postgres in one run, through real API and worker processes (dist/), each
 * backend on a fresh database of its own; the backends alternate which goes first each round.
 *
 * Per backend and round:
 * 1. accept: BACKENDS_BENCH_COMMANDS single POST /admin/enrollments over 50 connections, API only,
 *    after a warm-up whose jobs are deleted → accepted/s (2xx / wall time of the run);
 * 2. hand-over: the relay (in this process) hands them to BullMQ → jobs/s;
 * 3. poll: GET /jobs/{id} over 50 connections for 8 s with those jobs waiting (jobs analyzed first)
 *    → p99, median;
 * 4. drain: a worker process applies them → applied/s (from 'workers started' to the last one
 *    finished in PostgreSQL);
 * 5. end to end: API and worker together, the same number of new commands POSTed → applied/s
 *    (first POST to the last job finished: accept, relay, wake-ups and apply at once);
 * 6. import: a BACKENDS_BENCH_ROWS-row roster end to end (upload start → completed), fresh then the
 *    same file again, checked against the SQL baseline's roster (run once per round, same file).
 *
 * BACKENDS_BENCH_COMMANDS (default 30,000), BACKENDS_BENCH_ROWS (default 1,000,000; 0 skips the
 * imports), BACKENDS_BENCH_ROUNDS (default 1; medians printed).
 */
const JOBS = Number(process.env.BACKENDS_BENCH_COMMANDS ?? 30_000);
const ROWS = Number(process.env.BACKENDS_BENCH_ROWS ?? 1_000_000);
const ROUNDS = Number(process.env.BACKENDS_BENCH_ROUNDS ?? 1);
const WORKER_NODE_OPTIONS = process.env.IMPORTS_BENCH_WORKER_NODE_OPTIONS ?? '--max-old-space-size=128 --max-semi-space-size=4';
const CONNECTIONS = 50;
const WARM_UP = 3_000;
const POLL_SECONDS = 8;
const PORT = 3904;
const COURSES = 40;
const KINDS: QueueBackendKind[] = ['redis', 'postgres'];

const commandFor = (i: number) => ({ email: `student${i}@bench.edu`, name: `Student ${i}`, course_name: `Course ${i % COURSES}` });

type Figures = {
  accept: number;
  acceptP99: number;
  handOver: number;
  wakeUps: number;
  pollP99: number;
  pollP50: number;
  pollRate: number;
  drain: number;
  endToEnd: number;
  importFresh: number;
  importRerun: number;
};

export async function runBackendsBench(): Promise<void> {
  const file = ROWS > 0 ? rosterFile(ROWS) : undefined;
  console.log(`${JOBS.toLocaleString('en-US')} commands, ${ROWS.toLocaleString('en-US')} import rows, ${ROUNDS} round(s); backends ${KINDS.join(', ')}`);
  const results: Record<QueueBackendKind, Figures[]> = { redis: [], postgres: [] };
  const baseline = { fresh: [] as number[], rerun: [] as number[] };
  for (let round = 1; round <= ROUNDS; round++) {
    const order = round % 2 ? KINDS : [...KINDS].reverse();
    if (file) {
      console.log(`round ${round}: SQL baseline`);
      const base = sqlBaseline(file);
      console.log(`    fresh ${fmt(base.fresh, 2)} s, rerun ${fmt(base.rerun, 2)} s`);
      baseline.fresh.push(base.fresh);
      baseline.rerun.push(base.rerun);
    }
    for (const kind of order) {
      console.log(`round ${round}: QUEUE_BACKEND=${kind}`);
      const figures = { ...(await commandsOn(kind)), ...(file ? await importsOn(kind, file) : { importFresh: NaN, importRerun: NaN }) };
      console.log(`    ${JSON.stringify(figures)}`);
      results[kind].push(figures);
    }
  }
  printTable(results, { fresh: median(baseline.fresh), rerun: median(baseline.rerun) });
}

async function commandsOn(kind: QueueBackendKind): Promise<Omit<Figures, 'importFresh' | 'importRerun'>> {
  const prefix = `bench-backends-${Date.now()}`;
  const databaseUrl = await freshDatabase(`enroll_bench_backends_${kind}`, { queueSchema: kind === 'postgres' });
  const env = { DATABASE_URL: databaseUrl, REDIS_URL: BENCH_REDIS, QUEUE_PREFIX: prefix, QUEUE_BACKEND: kind, PORT: String(PORT), LOG_LEVEL: 'info' };
  const db = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  const api = startProcess('dist/src/api.js', env);
  try {
    await waitForOutput(api, 'api listening');
    await post(WARM_UP, 10 * JOBS);
    await db.query('delete from jobs');
    const accept = await post(JOBS, 0);
    if (accept.ok !== JOBS) throw new Error(`${JOBS - accept.ok} POSTs were not accepted`);
    const ids = (await db.query<{ id: string }>('select id from jobs')).rows.map((r) => r.id);
    const handOver = await handOverAll(env);
    // As autovacuum would have by now: on a never-analyzed jobs table the job view's reverted_by
    // subquery walks jobs_seq_key backwards for each poll (~100 ms at 60,000 rows), not jobs_reverts_idx.
    await db.query('analyze jobs');
    const poll = await pollPhase(ids);
    const drain = await withWorker(env, async () => JOBS / (await untilFinished(db)));
    // End to end: the API accepting while the worker's relay hands over and its workers apply.
    const endToEnd = await withWorker(env, async () => {
      const start = performance.now();
      const sent = await post(JOBS, JOBS);
      if (sent.ok !== JOBS) throw new Error(`${JOBS - sent.ok} POSTs were not accepted`);
      await untilFinished(db);
      return JOBS / ((performance.now() - start) / 1000);
    });
    return { accept: accept.rate, acceptP99: accept.p99, handOver: handOver.rate, wakeUps: handOver.waiting, pollP99: poll.p99, pollP50: poll.p50, pollRate: poll.rate, drain, endToEnd };
  } finally {
    await stop(api);
    await db.end();
    if (kind === 'redis') {
      const redis = new Redis(BENCH_REDIS);
      for (const name of ['commands', 'imports']) await new Queue(name, { connection: redis, prefix }).obliterate({ force: true });
      redis.disconnect();
    }
  }
}

/** POSTs `amount` single commands over 50 connections (students numbered from `from`); the rate is 2xx over the run's wall time. */
async function post(amount: number, from: number) {
  let i = from;
  const start = performance.now();
  const result = await autocannon({
    url: `http://127.0.0.1:${PORT}`,
    connections: CONNECTIONS,
    amount,
    requests: [
      {
        method: 'POST',
        path: '/api/v1/admin/enrollments',
        headers: { authorization: `Bearer ${TOKENS.admin}`, 'content-type': 'application/json' },
        setupRequest: (req) => ({ ...req, body: JSON.stringify(commandFor(i++)) }),
      },
    ],
  });
  const seconds = (performance.now() - start) / 1000;
  return { ok: result['2xx'], rate: result['2xx'] / seconds, p99: result.latency.p99 };
}


async function pollPhase(ids: string[]) {
  const start = performance.now();
  const result = await autocannon({
    url: `http://127.0.0.1:${PORT}`,
    connections: CONNECTIONS,
    duration: POLL_SECONDS,
    requests: [
      {
        method: 'GET',
        headers: { authorization: `Bearer ${TOKENS.read}` },
        setupRequest: (req) => ({ ...req, path: `/api/v1/jobs/${ids[Math.floor(Math.random() * ids.length)]}` }),
      },
    ],
  });
  if (result.non2xx) throw new Error(`${result.non2xx} polls were not 2xx`);
  return { p99: result.latency.p99, p50: result.latency.p50, rate: result['2xx'] / ((performance.now() - start) / 1000) };
}

/** Runs `fn` with a worker process started (and its workers up), then stops it. */
async function withWorker<T>(env: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const worker = startProcess('dist/workers/main.js', { ...env, NODE_OPTIONS: WORKER_NODE_OPTIONS });
  try {
    await waitForOutput(worker, 'workers started');
    return await fn();
  } finally {
    await stop(worker);
  }
}

/** Seconds until PostgreSQL says no job is queued or running; throws if one did not complete. */
async function untilFinished(db: pg.Pool): Promise<number> {
  const seconds = await timeUntil(async () => {
    const { rows } = await db.query(`select count(*)::int as n from jobs where status in ('queued', 'running')`);
    return rows[0].n === 0;
  }, 20);
  const { rows } = await db.query(`select count(*)::int as n from jobs where status <> 'completed'`);
  if (rows[0].n) throw new Error(`${rows[0].n} jobs did not complete`);
  return seconds;
}

async function importsOn(kind: QueueBackendKind, file: string): Promise<Pick<Figures, 'importFresh' | 'importRerun'>> {
  const databaseUrl = await freshDatabase(`enroll_bench_backends_imports_${kind}`, { queueSchema: kind === 'postgres' });
  const prefix = `bench-backends-imports-${Date.now()}`;
  const env = { DATABASE_URL: databaseUrl, REDIS_URL: BENCH_REDIS, QUEUE_PREFIX: prefix, QUEUE_BACKEND: kind, PORT: String(PORT), LOG_LEVEL: 'info' };
  const api = startProcess('dist/src/api.js', env);
  const worker = startProcess('dist/workers/main.js', { ...env, NODE_OPTIONS: WORKER_NODE_OPTIONS });
  try {
    await Promise.all([waitForOutput(api, 'api listening'), waitForOutput(worker, 'workers started')]);
    const baselineUrl = urlOfDatabase('enroll_sql_baseline');
    const fresh = await importOnce(PORT, file);
    await sameRoster(databaseUrl, baselineUrl);
    const rerun = await importOnce(PORT, file);
    if (fresh.job.counts.rows !== ROWS || rerun.job.counts.unchanged !== rerun.job.counts.valid) throw new Error('unexpected counts');
    await sameRoster(databaseUrl, baselineUrl);
    return { importFresh: fresh.seconds, importRerun: rerun.seconds };
  } finally {
    await Promise.all([stop(api), stop(worker)]);
    if (kind === 'redis') {
      const redis = new Redis(BENCH_REDIS);
      for (const name of ['commands', 'imports']) await new Queue(name, { connection: redis, prefix }).obliterate({ force: true });
      redis.disconnect();
    }
  }
}

function printTable(results: Record<QueueBackendKind, Figures[]>, baseline: { fresh: number; rerun: number }): void {
  const m = (kind: QueueBackendKind, key: keyof Figures) => median(results[kind].map((f) => f[key]));
  const rows: Array<[string, keyof Figures, number]> = [
    ['commands accepted/s (API only)', 'accept', 0],
    ['accept p99 (ms)', 'acceptP99', 0],
    ['jobs handed over/s (relay alone)', 'handOver', 0],
    ['wake-ups waiting after the hand-over', 'wakeUps', 0],
    [`status poll p99 (ms), ${JOBS.toLocaleString('en-US')} waiting`, 'pollP99', 0],
    ['status poll median (ms)', 'pollP50', 0],
    ['status polls/s', 'pollRate', 0],
    ['commands applied/s (drain)', 'drain', 0],
    ['commands applied/s (end to end)', 'endToEnd', 0],
    [`import ${ROWS.toLocaleString('en-US')} rows, fresh (s)`, 'importFresh', 2],
    [`import ${ROWS.toLocaleString('en-US')} rows, again (s)`, 'importRerun', 2],
  ];
  console.log(`\nmedians of ${ROUNDS} round(s):`);
  console.log('| figure | redis | postgres | postgres / redis |');
  console.log('| --- | ---: | ---: | ---: |');
  for (const [label, key, digits] of rows) {
    const [r, p] = [m('redis', key), m('postgres', key)];
    console.log(`| ${label} | ${fmt(r, digits)} | ${fmt(p, digits)} | ${fmt(p / r, 2)}× |`);
  }
  if (Number.isFinite(baseline.fresh)) {
    for (const kind of KINDS) {
      console.log(
        `import on ${kind}: fresh ${fmt(m(kind, 'importFresh') / baseline.fresh, 2)}× the SQL baseline (${fmt(baseline.fresh, 2)} s), again ${fmt(m(kind, 'importRerun') / baseline.rerun, 2)}× (${fmt(baseline.rerun, 2)} s)`,
      );
    }
  }
  const applied = m('postgres', 'endToEnd') / m('redis', 'endToEnd');
  const drained = m('postgres', 'drain') / m('redis', 'drain');
  console.log(`target: commands applied on postgres ≥ 0.8× redis: end to end ${fmt(applied, 2)}×, drain ${fmt(drained, 2)}× → ${applied >= 0.8 && drained >= 0.8 ? 'met' : 'NOT met'}`);
  console.log(JSON.stringify({ bench: 'backends', jobs: JOBS, rows: ROWS, rounds: ROUNDS, baseline, results }));
}
