import { beforeEach, describe, expect, it } from 'vitest';
import type { JobView } from '../src/jobs/job-view.js';
import { createTestDeps, truncateAll } from './support/deps.js';
import { ADMIN, testConfig } from './support/env.js';
import { cleanCsv, uploadCsv } from './support/imports.js';
import { getJob, jobFinished, waitForJob } from './support/jobs.js';
import { exited, workerProcesses } from './support/processes.js';
import { waitFor } from './support/wait.js';

/**
 * Exact resume (issue 4): real worker processes, killed with SIGKILL or stopped with SIGTERM in
 * the middle of a real import; the import finishes from its last checkpoint with exact counts.
 */

const config = testConfig();
const procs = workerProcesses(config);
beforeEach(() => truncateAll(procs.api));

const sql = <T = any>(q: string, params: unknown[] = []) => procs.api.orm.em.getConnection().execute<T[]>(q, params);
/** Whether the search index is there: a bulk load (these files, into an empty table) drops it until its parts are done. */
const searchIndexPresent = async () => (await sql<{ ok: boolean }>(`select to_regclass('students_search_trgm_idx') is not null as ok`))[0]!.ok;

/**
 * `n` rows: every 1000th has a bad email (a row error); every 100th repeats the previous row's
 * student in capitals with the same course (unchanged). Everything else creates a student.
 */
function rosterWithDuplicatesAndErrors(n: number) {
  const lines = ['name,email,course_name'];
  for (let i = 0; i < n; i++) {
    if (i % 1000 === 999) lines.push(`Bad ${i},not-an-email-${i},Course ${i % 50}`);
    else if (i % 100 === 50) lines.push(`Student ${i - 1},STUDENT${i - 1}@EXAMPLE.EDU,COURSE ${(i - 1) % 50}`);
    else lines.push(`Student ${i},student${i}@example.edu,Course ${i % 50}`);
  }
  const invalid = Math.floor(n / 1000);
  const unchanged = Math.floor((n + 49) / 100);
  const created = n - invalid - unchanged;
  return {
    csv: `${lines.join('\n')}\n`,
    counts: {
      rows: n,
      valid: n - invalid,
      invalid,
      students_created: created,
      students_updated: 0,
      enrollments_created: created,
      enrollments_activated: 0,
      enrollments_deactivated: 0,
      unchanged,
    },
  };
}

/** Nothing doubled: the tables and the error list hold exactly what one application gives. */
async function expectExactlyOnce(job: JobView, expected: ReturnType<typeof rosterWithDuplicatesAndErrors>['counts']) {
  expect(job.status).toBe('completed_with_errors');
  expect(job.counts).toEqual(expected);
  expect(job.progress).toMatchObject({ processed: expected.rows, total: expected.rows, percent: 100 });
  const [tables] = await sql(
    `select (select count(*)::int from students) as students, (select count(*)::int from course_enrollments) as enrollments,
            (select count(*)::int from job_errors where job_id = ?) as errors,
            (select count(distinct line)::int from job_errors where job_id = ?) as error_lines`,
    [job.id, job.id],
  );
  expect(tables).toEqual({ students: expected.students_created, enrollments: expected.enrollments_created, errors: expected.invalid, error_lines: expected.invalid });
}

describe('a worker killed with SIGKILL mid-import', () => {
  it('another worker finishes the import from the last checkpoint: exact counts, nothing doubled', async () => {
    const { csv, counts } = rosterWithDuplicatesAndErrors(100_000);
    const first = await procs.worker(1);
    const res = await uploadCsv(procs.app, csv);
    expect(res.status).toBe(202);
    const id = res.body.job_id;

    // While it runs, progress moves at least once a second.
    let last = await waitForJob(procs.app, id, (j) => j.progress.processed > 0, { timeoutMs: 60_000 });
    let lastChange = Date.now();
    let longestGap = 0;
    await waitFor('25,000 rows processed', async () => {
      if (last.progress.processed >= 25_000) return true;
      const now = await getJob(procs.app, id);
      expect(now.status).toBe('running');
      if (now.progress.processed !== last.progress.processed) {
        longestGap = Math.max(longestGap, Date.now() - lastChange);
        lastChange = Date.now();
        last = now;
      }
      if (Date.now() - lastChange > 5_000) throw new Error('no progress for 5 s');
      return false;
    }, { timeoutMs: 100_000, everyMs: 20 });
    expect(longestGap).toBeLessThan(1_000);
    expect(last.progress.total).toBe(100_000);

    first.kill('SIGKILL');
    expect(await exited(first)).toBe('SIGKILL');
    const atKill = (await getJob(procs.app, id)).progress.processed;
    expect(atKill).toBeLessThan(100_000);
    expect(await searchIndexPresent()).toBe(false);

    const second = await procs.worker(1);
    const job = await waitForJob(procs.app, id, jobFinished, { timeoutMs: 90_000 });
    await expectExactlyOnce(job, counts);
    expect(await searchIndexPresent()).toBe(true); // built again by the resumed import, before it completed
    second.kill('SIGTERM');
    expect(await exited(second)).toBe(0);
  }, 120_000);
});

describe('a worker stopped with SIGTERM mid-import', () => {
  it('hands the import back at the next batch boundary and another worker continues at once', async () => {
    // Big enough that the import is still running once a second worker process is up, even on a busy machine.
    const { csv, counts } = rosterWithDuplicatesAndErrors(200_000);
    const first = await procs.worker(1);
    const res = await uploadCsv(procs.app, csv);
    const id = res.body.job_id;
    await waitForJob(procs.app, id, (j) => j.progress.processed >= 2_000, { timeoutMs: 60_000 });
    // The second worker is connected and idle, ready to take the job when it is handed back.
    const second = await procs.worker(2);
    expect((await getJob(procs.app, id)).status).toBe('running');

    const stoppedAt = Date.now();
    first.kill('SIGTERM');
    expect(await exited(first)).toBe(0);
    const handedBack = (await getJob(procs.app, id)).progress.processed;
    expect(handedBack).toBeLessThan(200_000);
    // Taken over without waiting for a stalled-job check (lock 10 s + check every 5 s).
    await waitForJob(procs.app, id, (j) => j.progress.processed > handedBack || jobFinished(j), { timeoutMs: 6_000 });
    expect(Date.now() - stoppedAt).toBeLessThan(8_000);

    const job = await waitForJob(procs.app, id, jobFinished, { timeoutMs: 60_000 });
    await expectExactlyOnce(job, counts);
    second.kill('SIGTERM');
    expect(await exited(second)).toBe(0);
  }, 90_000);
});

describe('a whole-file check cut short (worker killed while checking)', () => {
  it('is done again on resume: a broken last line still fails the whole file, nothing applied', async () => {
    const workerDeps = await createTestDeps('worker', config);
    const { createImportWorker } = await import('../workers/imports.worker.js');
    const { startRelay } = await import('../src/jobs/relay.js');
    try {
      // Accepted while no worker runs; then made to look like a check that wrote an estimate and died.
      // Over one stored chunk (1 MiB), so the rows read first could be applied before the break is seen.
      const csv = `${cleanCsv(60_000)}"broken@x.edu,Art,Broken\n`;
      const res = await uploadCsv(procs.app, csv);
      expect(res.status).toBe(202);
      const id = res.body.job_id as string;
      await sql(`update jobs set status = 'running', total = 3 where id = ?`, [id]);
      const importer = createImportWorker(workerDeps, { batchRows: 1_000 });
      const relay = startRelay(workerDeps);
      try {
        const job = await waitForJob(procs.app, id);
        expect(job).toMatchObject({ status: 'failed', error: { code: 'csv_syntax' }, counts: { rows: 0 }, progress: { processed: 0 } });
      } finally {
        await Promise.all([importer.close(), relay.close()]);
      }
      expect(await sql(`select count(*)::int as n from students`)).toEqual([{ n: 0 }]);
    } finally {
      await workerDeps.close();
    }
  });
});

describe('an import cancelled before any worker took it', () => {
  it('is never applied, and its stored file is freed (size and hash kept)', async () => {
    const res = await uploadCsv(procs.app, cleanCsv(5));
    const id = res.body.job_id as string;
    const cancel = await procs.app.request(`/api/v1/jobs/${id}/cancel`, { method: 'POST', headers: ADMIN });
    expect(await cancel.json()).toMatchObject({ status: 'cancelled' });
    expect(await sql(`select count(*)::int as n from upload_chunks c join uploads u on u.id = c.upload_id where u.job_id = ?`, [id])).toEqual([{ n: 0 }]);
    expect(await sql(`select size_bytes is not null and sha256 is not null as kept from uploads where job_id = ?`, [id])).toEqual([{ kept: true }]);
  });
});

describe('PostgreSQL dropping every connection mid-import (as in a restart)', () => {
  it('the worker retries and finishes from the last checkpoint: exact counts, nothing doubled', async () => {
    const { csv, counts } = rosterWithDuplicatesAndErrors(60_000);
    const child = await procs.worker(1);
    const res = await uploadCsv(procs.app, csv);
    const id = res.body.job_id as string;
    await waitForJob(procs.app, id, (j) => j.progress.processed >= 5_000, { timeoutMs: 60_000 });

    // Every other session of the database goes: the worker's, and ours (the pool recovers).
    const pg = (await import('pg')).default;
    const admin = new pg.Client({ connectionString: config.databaseUrl });
    await admin.connect();
    const { rows } = await admin.query(
      `select count(pg_terminate_backend(pid))::int as n from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`,
    );
    expect(rows[0].n).toBeGreaterThan(0);
    let job: JobView | undefined;
    try {
      await waitFor('the import to finish', async () => {
        const r = await admin.query(`select status from jobs where id = $1`, [id]);
        return !['queued', 'running'].includes(r.rows[0].status);
      }, { timeoutMs: 90_000, everyMs: 200 });
    } finally {
      await admin.end();
    }
    // Our own pool may hand out a dead connection once before it notices.
    await waitFor('the API to read again', async () => {
      const r = await procs.app.request(`/api/v1/jobs/${id}`, { headers: ADMIN });
      if (r.status === 200) job = (await r.json()) as JobView;
      return r.status === 200;
    }, { timeoutMs: 10_000, everyMs: 100 });
    await expectExactlyOnce(job!, counts);
    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);
  }, 120_000);
});
