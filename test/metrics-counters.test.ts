import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrationsList } from '../migrations/index.js';
import { drainCommandJobs } from '../src/commands/command-apply.service.js';
import { takeApplyLock } from '../src/db/apply-transaction.js';
import { createDatabaseIfMissing, migratorOptions } from '../src/db/migrate.js';
import { initORM } from '../src/db/orm.js';
import type { App } from '../src/http/app.js';
import { markJobFailed } from '../src/jobs/job-finish.repository.js';
import { reconcileOnce } from '../src/jobs/reconciler.js';
import { startRelay } from '../src/jobs/relay.js';
import type { Deps } from '../src/process/deps.js';
import { createCommandWorker } from '../workers/commands.worker.js';
import { createImportWorker } from '../workers/imports.worker.js';
import { closeWorkers } from '../workers/index.js';
import type { RunningWorker } from '../workers/running-worker.js';
import { truncateAll } from './support/deps.js';
import { TEST_DATABASE_URL } from './support/env.js';
import { cleanCsv, uploadCsv } from './support/imports.js';
import { getJob, jobFinished, send, waitForJob } from './support/jobs.js';
import { growth, readCounters, type Counters } from './support/metrics.js';
import { createTestService, type TestService } from './support/service.js';

/**
 * The counters of `GET /metrics` (CONTRACT §4): enroll_jobs_finished_total{type,status} and
 * enroll_import_rows_applied_total, kept in PostgreSQL and grown in the transaction that finishes a
 * job or commits a batch.
 */

let service: TestService;
let api: Deps;
let workerDeps: Deps;
let workers: RunningWorker[] = [];
let app: App;

beforeAll(async () => {
  service = await createTestService();
  ({ api, workerDeps, app } = service);
});
afterAll(async () => {
  await closeWorkers(workers);
  await service.close();
});

const sql = <T = any>(q: string, params: unknown[] = []) => api.orm.em.getConnection().execute<T[]>(q, params);
const counters = (sources: Pick<Deps, 'orm' | 'queues' | 'queueBackend'> = api) => readCounters(sources);

/** Takes the apply lock on a connection of the test's own: command drains wait, and an import stops at a batch boundary. */
async function holdApplyLock(): Promise<() => Promise<void>> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  await client.query('begin');
  await takeApplyLock(client);
  return async () => {
    await client.query('commit');
    await client.end();
  };
}

/** Uploads a CSV (options as a query string) and returns its job id. */
const importId = async (csv: string, query?: string) => (await uploadCsv(app, csv, { query })).body.job_id as string;
const cancel = (id: string) => send(app, 'POST', `/jobs/${id}/cancel`, {});

describe('counters of finished jobs and applied rows (kept in PostgreSQL, so retention never lowers them)', () => {
  beforeAll(async () => {
    await truncateAll(api);
    // Small import batches: a file of a few thousand rows applies in many checkpoints.
    workers = [createCommandWorker(workerDeps), createImportWorker(workerDeps, { batchRows: 50 }), startRelay(workerDeps)];
  });

  it('are Prometheus counters, and show every type and final status from zero', async () => {
    const text = await (await app.request('/metrics')).text();
    expect(text).toContain('# TYPE enroll_jobs_finished_total counter');
    expect(text).toContain('# TYPE enroll_import_rows_applied_total counter');
    const now = await counters();
    for (const type of ['command', 'batch', 'import']) {
      for (const status of ['completed', 'completed_with_errors', 'failed', 'cancelled']) expect(now.finished(type, status)).toBe(0);
    }
    expect(now.rowsApplied).toBe(0);
  });

  it('count command and batch jobs once each, whichever way they finish', async () => {
    const before = await counters();
    const release = await holdApplyLock(); // the jobs stay queued while some are cancelled or failed by hand
    let accepted: Array<{ status: number; body: { job_id: string } }>;
    try {
      accepted = [
        await send(app, 'POST', '/admin/enrollments', { email: 'a@x.edu', name: 'A', course_name: 'Art' }),
        await send(app, 'POST', '/admin/enrollments', { email: 'ghost@x.edu', course_name: 'Art' }), // no name: fails
        await send(app, 'POST', '/admin/enrollments/batch', { commands: [{ email: 'b@x.edu', name: 'B', course_name: 'Art' }] }),
        await send(app, 'POST', '/admin/enrollments/batch', {
          commands: [{ email: 'c@x.edu', name: 'C', course_name: 'Art' }, { email: 'nobody@x.edu', course_name: 'Art' }],
        }),
        await send(app, 'POST', '/admin/enrollments', { email: 'd@x.edu', name: 'D', course_name: 'Art' }),
        await send(app, 'POST', '/admin/enrollments', { email: 'e@x.edu', name: 'E', course_name: 'Art' }),
      ];
      const [toCancel, toFail] = accepted.slice(4).map((r) => r.body.job_id);
      // Cancelled while queued, twice: the second request finds it cancelled already.
      for (let i = 0; i < 2; i++) expect(await cancel(toCancel!)).toMatchObject({ status: 202, body: { status: 'cancelled' } });
      // What the worker does once BullMQ's retries are exhausted; the second call finds it finished.
      for (let i = 0; i < 2; i++) await markJobFailed(api.orm, toFail!, 'the job could not be applied after 3 attempts');
    } finally {
      await release();
    }
    const jobs = await Promise.all(accepted.map((r) => waitForJob(app, r.body.job_id)));
    expect(jobs.map((j) => j.status)).toEqual(['completed', 'failed', 'completed', 'completed_with_errors', 'cancelled', 'failed']);
    expect(growth(before, await counters())).toEqual({
      finished: { 'command/completed': 1, 'command/failed': 2, 'command/cancelled': 1, 'batch/completed': 1, 'batch/completed_with_errors': 1 },
      rowsApplied: 0,
    });
  });

  it('count a job the database refuses, failed alone in a transaction of its own', async () => {
    const before = await counters();
    const id = '00000000-0000-4000-8000-00000000000d';
    // Written around the API's validation: a name with spaces around it breaks a database check.
    const payload = { commands: [{ student: { email: 'refused@x.edu' }, courseName: 'Art', action: 'set', name: ' R ' }] };
    await sql(`insert into jobs (id, type, payload) values (?, 'command', ?::jsonb)`, [id, JSON.stringify(payload)]);
    await drainCommandJobs(api.orm, api.logger);
    expect(await waitForJob(app, id)).toMatchObject({ status: 'failed', error: { code: 'internal' } });
    expect(growth(before, await counters())).toEqual({ finished: { 'command/failed': 1 }, rowsApplied: 0 });
  });

  it('count import jobs by final status, and the rows of real imports only (never a dry run)', async () => {
    const before = await counters();
    const release = await holdApplyLock(); // the first import waits at its first batch, the others queued
    let ids: string[];
    try {
      ids = [
        await importId(cleanCsv(3)),
        await importId('name,email,course_name\nF,f@x.edu,Art\nG,not-an-email,Art\n'),
        await importId('name,email\nH,h@x.edu\n'), // no course_name: fails as a whole
        await importId(cleanCsv(120, { from: 100 }), 'dry_run=true'),
        await importId(cleanCsv(3, { from: 300 })),
      ];
      expect(await cancel(ids[4]!)).toMatchObject({ status: 202, body: { status: 'cancelled' } });
    } finally {
      await release();
    }
    const jobs = await Promise.all(ids.map((id) => waitForJob(app, id)));
    expect(jobs.map((j) => j.status)).toEqual(['completed', 'completed_with_errors', 'failed', 'completed', 'cancelled']);
    expect(jobs[3]!.counts.valid).toBe(120); // the dry run would have applied them, and applied none
    expect(growth(before, await counters())).toEqual({
      finished: { 'import/completed': 2, 'import/completed_with_errors': 1, 'import/failed': 1, 'import/cancelled': 1 },
      rowsApplied: 3 + 1,
    });
  });

  it('count import rows as each batch commits, while the import runs; a cancelled import keeps what it applied', async () => {
    const before = await counters();
    // Transactions of about 5,000 written rows, two at a time: 40,000 rows leave some after two pauses.
    const id = await importId(cleanCsv(40_000, { from: 1_000 }));
    let applied = 0;
    for (let pause = 1; pause <= 2; pause++) {
      await waitForJob(app, id, (j) => j.counts.valid > applied || jobFinished(j));
      const release = await holdApplyLock(); // the import stops at its next batch boundary
      try {
        const job = await getJob(app, id);
        expect(job.status).toBe('running');
        const rows = (await counters()).rowsApplied - before.rowsApplied;
        expect(rows).toBe(job.counts.valid); // exactly the batches committed so far
        expect(rows).toBeGreaterThan(applied);
        expect(rows).toBeLessThan(40_000);
        applied = rows;
        if (pause === 2) expect(await cancel(id)).toMatchObject({ status: 202, body: { status: 'running' } });
      } finally {
        await release();
      }
    }
    const job = await waitForJob(app, id);
    expect(job).toMatchObject({ status: 'cancelled', counts: { valid: applied } });
    expect(growth(before, await counters())).toEqual({ finished: { 'import/cancelled': 1 }, rowsApplied: applied });
  });

  it('do not drop when the reconciler deletes finished jobs past their retention', async () => {
    const before = await counters();
    const [{ n }] = await sql(`select count(*)::int as n from jobs where finished_at is not null`);
    expect(n).toBeGreaterThan(10);
    await sql(`update jobs set finished_at = now() - make_interval(hours => ?) where finished_at is not null`, [workerDeps.config.jobRetentionHours + 1]);
    expect(await reconcileOnce(workerDeps, 0)).toMatchObject({ deletedJobs: n });
    const after = await counters();
    // The gauge of the jobs kept drops with them; the counters stay where they were.
    expect([...after.samples.keys()].filter((k) => k.startsWith('enroll_jobs{'))).toEqual([]);
    expect(growth(before, after)).toEqual({ finished: {}, rowsApplied: 0 });
    expect(after.finished('import', 'completed')).toBe(2);
    expect(after.rowsApplied).toBeGreaterThan(4);
  });
});

describe('the migration that adds the totals', () => {
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/enroll_totals_seed_${process.pid}`;
  const dropIt = async () => {
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    await admin.query(`drop database if exists ${pg.escapeIdentifier(url.pathname.slice(1))} with (force)`);
    await admin.end();
  };
  beforeAll(dropIt);
  afterAll(dropIt);

  it('starts them from the jobs already kept, so the counters go on from what the gauges showed', async () => {
    await createDatabaseIfMissing(url.toString(), pino({ level: 'silent' }));
    const orm = await initORM(url.toString(), 2, await migratorOptions());
    try {
      const previous = migrationsList[migrationsList.findIndex((m) => m.name.endsWith('_job_totals')) - 1]!.name;
      await orm.getMigrator().up({ to: previous });
      const job = (type: string, status: string, valid: number, dryRun = false) =>
        orm.em.getConnection().execute(`insert into jobs (id, type, status, payload, counts) values (gen_random_uuid(), ?, ?, ?::jsonb, ?::jsonb)`, [
          type,
          status,
          JSON.stringify(type === 'import' ? { dry_run: dryRun } : { commands: [] }),
          JSON.stringify({ valid }),
        ]);
      await job('command', 'completed', 1);
      await job('command', 'completed', 1);
      await job('command', 'failed', 0);
      await job('command', 'queued', 0);
      await job('batch', 'completed_with_errors', 9);
      await job('import', 'completed', 5);
      await job('import', 'completed', 7, true); // a dry run: nothing applied
      await job('import', 'running', 3); // its checkpoint: applied already
      await job('import', 'cancelled', 2);
      await orm.getMigrator().up();
      const nothing: Counters = { samples: new Map(), finished: () => undefined, rowsApplied: 0 };
      expect(growth(nothing, await counters({ orm, queues: api.queues, queueBackend: api.queueBackend }))).toEqual({
        finished: { 'command/completed': 2, 'command/failed': 1, 'batch/completed_with_errors': 1, 'import/completed': 2, 'import/cancelled': 1 },
        rowsApplied: 5 + 3 + 2,
      });
    } finally {
      await orm.close();
    }
  });
});
