import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LOCKS } from '../src/db/locks.js';
import type { Deps } from '../src/process/deps.js';
import { createApp, type App } from '../src/http/app.js';
import { reconcileOnce } from '../src/jobs/reconciler.js';
import { handOverOnce } from '../src/jobs/relay.js';
import { closeWorkers, startWorkers } from '../workers/index.js';
import { createTestDeps, truncateAll } from './support/deps.js';
import { testConfig, TEST_QUEUE_BACKEND } from './support/env.js';
import { send } from './support/jobs.js';
import { exited, spawnWorker } from './support/processes.js';
import { waitFor } from './support/wait.js';

const config = testConfig();
let api: Deps;
let app: App;
beforeAll(async () => {
  api = await createTestDeps('api', config);
  app = createApp(api);
});
afterAll(async () => {
  await api.queues.commands.obliterate({ force: true });
  await api.close();
});
beforeEach(() => truncateAll(api));

const sql = <T = any>(q: string, params: unknown[] = []) => api.orm.em.getConnection().execute<T[]>(q, params);
const unfinished = async () => Number((await sql(`select count(*) as n from jobs where status in ('queued', 'running')`))[0].n);

/** The queue store loses everything: Redis is flushed (a restart without persistence); on PostgreSQL, BullMQ's queues are obliterated. */
async function loseTheQueues(deps: Deps): Promise<void> {
  if (deps.queueBackend.redis) await deps.queueBackend.redis.flushdb();
  else await Promise.all([deps.queues.commands.obliterate({ force: true }), deps.queues.imports.obliterate({ force: true })]);
}

describe(`durable accept: the queues (${TEST_QUEUE_BACKEND}) losing everything loses no accepted command`, () => {
  it('the queues emptied with commands waiting: the reconciler wakes them again and all apply', async () => {
    for (let i = 0; i < 40; i++) {
      expect((await send(app, 'POST', '/admin/enrollments', { email: `f${i}@x.edu`, name: `F ${i}`, course_name: 'Art' })).status).toBe(202);
    }
    // No worker runs yet: the jobs are only in PostgreSQL. A relay hands them to BullMQ (one wake-up); then the queues lose it.
    expect(await api.queues.commands.getJobCounts('wait')).toEqual({ wait: 0 });
    expect(await handOverOnce(api)).toBe(40);
    expect(await api.queues.commands.getJobCounts('wait')).toEqual({ wait: 1 });
    await loseTheQueues(api);
    expect(await api.queues.commands.getJobCounts('wait')).toEqual({ wait: 0 });

    const workerDeps = await createTestDeps('worker', config);
    const workers = await startWorkers(workerDeps);
    try {
      const report = await reconcileOnce(workerDeps, 0);
      expect(report?.requeued).toBe(40);
      await waitFor('all jobs applied', async () => (await unfinished()) === 0);
      expect(await sql(`select count(*)::int as n from course_enrollments where active`)).toEqual([{ n: 40 }]);
      expect((await reconcileOnce(workerDeps, 0))?.requeued).toBe(0);
    } finally {
      await closeWorkers(workers);
      await workerDeps.close();
    }
  });
});

describe('exactly-once effect on at-least-once delivery', () => {
  it('a worker killed with SIGKILL mid-drain: another finishes, nothing applied or counted twice', async () => {
    const BATCHES = 100;
    const PER_BATCH = 1_000;
    for (let b = 0; b < BATCHES; b++) {
      const commands = Array.from({ length: PER_BATCH }, (_, i) => ({ email: `b${b}s${i}@x.edu`, name: `S ${i}`, course_name: `Course ${i % 7}` }));
      expect((await send(app, 'POST', '/admin/enrollments/batch', { commands })).status).toBe(202);
    }
    const first = spawnWorker(config);
    await waitFor('the first worker to finish some jobs', async () => (await unfinished()) < BATCHES - 4, { timeoutMs: 60_000, everyMs: 20 });
    first.kill('SIGKILL');
    expect(await exited(first)).toBe('SIGKILL');
    expect(await unfinished()).toBeGreaterThan(0);

    const second = spawnWorker(config);
    try {
      await waitFor('every job to finish', async () => (await unfinished()) === 0, { timeoutMs: 120_000, everyMs: 100 });
    } finally {
      second.kill('SIGTERM');
      expect(await exited(second)).toBe(0);
    }
    const jobs = await sql<{ status: string; attempts: number; counts: Record<string, number> }>(`select status, attempts, counts from jobs`);
    expect(jobs).toHaveLength(BATCHES);
    for (const job of jobs) {
      expect(job).toMatchObject({ status: 'completed', attempts: 1 });
      expect(job.counts).toMatchObject({ rows: PER_BATCH, valid: PER_BATCH, students_created: PER_BATCH, enrollments_created: PER_BATCH, unchanged: 0 });
    }
    expect(await sql(`select count(*)::int as n from students`)).toEqual([{ n: BATCHES * PER_BATCH }]);
    expect(await sql(`select count(*)::int as n from course_enrollments where active`)).toEqual([{ n: BATCHES * PER_BATCH }]);
  }, 240_000); // its waits alone may take 60 s + 120 s on a busy machine
});

describe('the reconciler across processes', () => {
  it('runs one pass at a time, and a pass that finds the lock taken leaves no transaction open', async () => {
    const workerDeps = await createTestDeps('worker', config);
    const holder = await createTestDeps('worker', config);
    try {
      // Another process mid-pass holds the lock for as long as we look.
      const { withPgClient } = await import('../src/db/orm.js');
      await withPgClient(holder.orm, async (other) => {
        await other.query('select pg_advisory_lock($1)', [LOCKS.reconcile]);
        try {
          expect(await reconcileOnce(workerDeps, 0)).toBeNull();
        } finally {
          await other.query('select pg_advisory_unlock($1)', [LOCKS.reconcile]);
        }
      });
      const idle = await sql(`select count(*)::int as n from pg_stat_activity where datname = current_database() and state like 'idle in transaction%'`);
      expect(idle).toEqual([{ n: 0 }]);
      expect(await reconcileOnce(workerDeps, 0)).not.toBeNull();
    } finally {
      await Promise.all([workerDeps.close(), holder.close()]);
    }
  });
});

describe('retention', () => {
  it('deletes finished jobs past JOB_RETENTION_HOURS and idempotency keys past 24 hours, nothing newer', async () => {
    await sql(`insert into jobs (id, type, payload, status, finished_at, created_at) values
      ('00000000-0000-4000-8000-000000000001', 'command', '{}', 'completed', now() - interval '200 hours', now() - interval '200 hours'),
      ('00000000-0000-4000-8000-000000000002', 'command', '{}', 'completed', now() - interval '100 hours', now() - interval '100 hours'),
      ('00000000-0000-4000-8000-000000000003', 'command', '{}', 'queued', null, now() - interval '300 hours')`);
    await sql(`insert into idempotency_keys (key, fingerprint, created_at) values ('old', 'x', now() - interval '200 hours'), ('new', 'x', now() - interval '23 hours')`);
    const workerDeps = await createTestDeps('worker', config);
    try {
      const report = await reconcileOnce(workerDeps, 0);
      expect(report).toMatchObject({ deletedJobs: 1, deletedKeys: 1 });
    } finally {
      await workerDeps.close();
    }
    expect((await sql(`select id from jobs order by id`)).map((r) => r.id)).toEqual([
      '00000000-0000-4000-8000-000000000002',
      '00000000-0000-4000-8000-000000000003',
    ]);
    expect(await sql(`select key from idempotency_keys`)).toEqual([{ key: 'new' }]);
  });
});

describe('a job the database refuses', () => {
  it('fails alone with a plain error; the jobs around it still apply', async () => {
    const { drainCommandJobs } = await import('../src/commands/command-apply.service.js');
    const cmd = (email: string, name: string) => JSON.stringify({ commands: [{ student: { email }, courseName: 'Art', action: 'set', name }] });
    // Written around the API's validation: a name with spaces around it breaks a database check.
    await sql(`insert into jobs (id, type, payload) values
      ('00000000-0000-4000-8000-00000000000a', 'command', ?::jsonb),
      ('00000000-0000-4000-8000-00000000000b', 'command', ?::jsonb),
      ('00000000-0000-4000-8000-00000000000c', 'command', ?::jsonb)`, [cmd('a@x.edu', 'A'), cmd('b@x.edu', ' B '), cmd('c@x.edu', 'C')]);
    expect(await drainCommandJobs(api.orm, api.logger)).toBe(3);
    const jobs = await sql(`select id, status, error from jobs order by id`);
    expect(jobs.map((j) => j.status)).toEqual(['completed', 'failed', 'completed']);
    expect(jobs[1].error).toEqual({ code: 'internal', message: 'the database refused this job; see the worker logs' });
    expect(await sql(`select email from students order by email`)).toEqual([{ email: 'a@x.edu' }, { email: 'c@x.edu' }]);
  });
});
