import autocannon from 'autocannon';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { BENCH_REDIS, fmt, freshDatabase, handOverAll, startProcess, stop, timeUntil, TOKENS, waitForOutput } from './support.js';

/**
 * Commands benchmark (issue 3), all in one run on this machine:
 * 1. accept: 30,000 POST /admin/enrollments over 50 connections (API only, no worker), after a
 *    warm-up of 3,000 → rate, p99;
 * 2. hand-over: the relay gives those 30,000 jobs to BullMQ (the API only committed them) → jobs/s;
 *    poll: GET /jobs/{id} over 50 connections with the 30,000 waiting in BullMQ → p99;
 * 3. drain: a worker applies the 30,000 → commands/s, next to a naive BullMQ worker (one job per
 *    command, one upsert statement per job, concurrency 50, its own database) on the same commands.
 */
const JOBS = Number(process.env.BENCH_COMMANDS ?? 30_000);
const CONNECTIONS = 50;
/** Requests sent before the measured ones (their jobs are deleted before measuring). */
const WARM_UP = 3_000;
const PORT = 3901;
const COURSES = 40;

const commandFor = (i: number) => ({ email: `student${i}@bench.edu`, name: `Student ${i}`, course_name: `Course ${i % COURSES}` });

export async function runCommandsBench(): Promise<void> {
  const prefix = `bench${Date.now()}`;
  const databaseUrl = await freshDatabase('enroll_bench_commands');
  const env = { DATABASE_URL: databaseUrl, REDIS_URL: BENCH_REDIS, QUEUE_PREFIX: prefix, PORT: String(PORT) };
  const db = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  const api = startProcess('dist/src/api.js', { ...env, LOG_LEVEL: 'info' });
  try {
    await waitForOutput(api, 'api listening');
    // Warm up (JIT, connection pools), then forget the warm-up's jobs: 30,000 measured from here.
    await post(WARM_UP, JOBS);
    await db.query('delete from jobs');
    const accept = await acceptPhase();
    const ids = (await db.query<{ id: string }>('select id from jobs')).rows.map((r) => r.id);
    const handOver = await handOverAll({ DATABASE_URL: databaseUrl, REDIS_URL: BENCH_REDIS, QUEUE_PREFIX: prefix });
    const poll = await pollPhase(ids);
    const drain = await drainPhase(env, db);
    const naive = await naiveDrain();
    const ratio = drain / naive;
    console.log(`accept:  ${fmt(accept.rate, 0)} commands/s, p99 ${accept.p99} ms, ${accept.non2xx} non-2xx (${JOBS} requests, ${CONNECTIONS} connections)`);
    console.log(`handover: ${fmt(handOver.rate, 0)} jobs/s handed to BullMQ by the relay (run alone); ${handOver.waiting} wake-ups waiting in BullMQ`);
    console.log(`poll:    p99 ${poll.p99} ms, median ${poll.p50} ms, ${fmt(poll.rate, 0)} polls/s with ${handOver.waiting} jobs waiting`);
    console.log(`drain:   ${fmt(drain, 0)} commands/s applied by the service worker`);
    console.log(`naive:   ${fmt(naive, 0)} commands/s (one BullMQ job and one upsert per command, concurrency 50)`);
    console.log(`ratio:   service / naive = ${fmt(ratio, 2)}x`);
    console.log(
      JSON.stringify({ bench: 'commands', jobs: JOBS, accept_per_s: accept.rate, accept_p99_ms: accept.p99, handover_per_s: handOver.rate, poll_p99_ms: poll.p99, drain_per_s: drain, naive_per_s: naive, ratio }),
    );
  } finally {
    await stop(api);
    await db.end();
    const redis = new Redis(BENCH_REDIS);
    for (const name of ['commands', 'imports', 'naive']) await new Queue(name, { connection: redis, prefix }).obliterate({ force: true });
    redis.disconnect();
  }
}

/** POSTs `amount` single commands over 50 connections, the students numbered from `from`. */
async function post(amount: number, from: number) {
  let i = from;
  return autocannon({
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
}

async function acceptPhase() {
  const result = await post(JOBS, 0);
  return { rate: result['2xx'] / (result.duration || 1), p99: result.latency.p99, non2xx: result.non2xx };
}


async function pollPhase(ids: string[]) {
  const result = await autocannon({
    url: `http://127.0.0.1:${PORT}`,
    connections: CONNECTIONS,
    duration: 8,
    requests: [
      {
        method: 'GET',
        headers: { authorization: `Bearer ${TOKENS.read}` },
        setupRequest: (req) => ({ ...req, path: `/api/v1/jobs/${ids[Math.floor(Math.random() * ids.length)]}` }),
      },
    ],
  });
  return { p99: result.latency.p99, p50: result.latency.p50, rate: result.requests.average };
}

/** Starts a service worker and times it until PostgreSQL says every job has finished. */
async function drainPhase(env: Record<string, string>, db: pg.Pool): Promise<number> {
  const worker = startProcess('dist/workers/main.js', { ...env, LOG_LEVEL: 'info' });
  try {
    await waitForOutput(worker, 'workers started');
    const seconds = await timeUntil(async () => {
      const { rows } = await db.query(`select count(*)::int as n from jobs where status in ('queued', 'running')`);
      return rows[0].n === 0;
    }, 20);
    return JOBS / seconds;
  } finally {
    await stop(worker);
  }
}

/** The naive baseline: one BullMQ job per command, one upsert statement per job. */
async function naiveDrain(): Promise<number> {
  const url = await freshDatabase('enroll_bench_naive');
  const pool = new pg.Pool({ connectionString: url, max: 20 });
  const connection = new Redis(BENCH_REDIS, { maxRetriesPerRequest: null });
  const prefix = `naive${Date.now()}`;
  const queue = new Queue('naive', { connection, prefix });
  for (let i = 0; i < JOBS; i += 1_000) {
    await queue.addBulk(Array.from({ length: Math.min(1_000, JOBS - i) }, (_, k) => ({ name: 'set', data: commandFor(i + k), opts: { removeOnComplete: true } })));
  }
  let done = 0;
  const start = performance.now();
  const worker = new Worker(
    'naive',
    async (job) => {
      const c = job.data as ReturnType<typeof commandFor>;
      await pool.query(NAIVE_UPSERT, [c.name, c.email, c.course_name]);
      done++;
    },
    { connection, prefix, concurrency: 50 },
  );
  await timeUntil(async () => done >= JOBS, 20);
  const seconds = (performance.now() - start) / 1000;
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  connection.disconnect();
  await pool.end();
  return JOBS / seconds;
}

/** `set` in one statement: upsert course and student, activate the enrollment, deactivate the others. */
const NAIVE_UPSERT = `
with c as (
  insert into courses (name) values ($3) on conflict (lower(name)) do update set name = courses.name returning id
), s as (
  insert into students (name, email) values ($1, $2)
  on conflict (lower(email)) do update set name = excluded.name, updated_at = now() returning id
), e as (
  insert into course_enrollments (course_id, student_id, active) select c.id, s.id, true from c, s
  on conflict (course_id, student_id) do update set active = true, updated_at = now() returning student_id, course_id
)
update course_enrollments x set active = false, updated_at = now()
  from e where x.student_id = e.student_id and x.course_id <> e.course_id and x.active`;
