import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Deps } from '../src/process/deps.js';
import { acceptImport } from '../src/imports/import-accept.service.js';
import { runImport, type ImportControl } from '../src/imports/import.service.js';
import { LOCKS } from '../src/db/locks.js';
import { reconcileOnce } from '../src/jobs/reconciler.js';
import { truncateAll } from './support/deps.js';
import { TEST_DATABASE_URL, READER } from './support/env.js';
import { expectCountsMatchChanges } from './support/history.js';
import { waitForJob } from './support/jobs.js';
import { captureLogs } from './support/logs.js';
import { createTestService, type TestService } from './support/service.js';

/**
 * The search index around a bulk load (search-index.repository.ts): an import that creates at
 * least `bulkLoadStudents` students, and at least as many as are stored, drops the trigram index
 * before its parts and builds it again before it completes; a smaller one keeps it up row by row.
 * Whatever the way, a completed import's students are found by a search through the index.
 */

let service: TestService;
let deps: Deps;
beforeAll(async () => {
  service = await createTestService();
  deps = service.workerDeps;
});
afterAll(() => service.close());
beforeEach(() => truncateAll(deps));

const sql = <T = any>(q: string, params: unknown[] = []) => deps.orm.em.getConnection().execute<T[]>(q, params);
/** The index's identity: a new one after a rebuild, null when missing; and whether it is valid. */
const searchIndex = async () =>
  (await sql<{ oid: number; valid: boolean }>(`select c.oid::int4 as oid, i.indisvalid as valid from pg_class c join pg_index i on i.indexrelid = c.oid where c.relname = 'students_search_trgm_idx'`))[0] ?? null;

async function importRows(rows: string[], control: Partial<ImportControl> = {}) {
  const accepted = await acceptImport(deps, {
    source: (async function* () {
      yield Buffer.from(`name,email,course_name\n${rows.join('\n')}\n`);
    })(),
    options: { mode: 'add', dryRun: false, source: null, fileName: null, sync: null },
    idempotencyKey: null,
  });
  const id = accepted.body.job_id;
  const { lines, logger } = captureLogs();
  await runImport(deps.orm, id, { stopping: () => false, batchRows: 100, writers: 2, log: logger('info'), ...control });
  const steps = lines.filter((l) => l.msg === 'import step done').map((l) => l.step);
  const warnings = lines.filter((l) => l.level === 40).map((l) => l.msg);
  return { job: await waitForJob(service.app, id), steps, warnings };
}

const students = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix} Person${i},${prefix.toLowerCase()}${i}@uni.edu,Course ${i % 7}`);

/** The emails a search for `part` finds, through the API. */
async function searchFinds(part: string): Promise<string[]> {
  const res = await service.app.request(`/api/v1/students?q=${encodeURIComponent(part)}`, { headers: READER });
  expect(res.status).toBe(200);
  return ((await res.json()) as { items: Array<{ email: string }> }).items.map((s) => s.email);
}

describe('the search index around an import', () => {
  it('a bulk load (at least the threshold, at least as many as stored) drops it and builds it again before it completes', async () => {
    await importRows(students(50, 'Old'));
    const before = await searchIndex();
    const { job, steps } = await importRows(students(300, 'Zyx'), { bulkLoadStudents: 200 });
    expect(job.status).toBe('completed');
    expect(job.counts).toMatchObject({ students_created: 300, enrollments_created: 300 });
    await expectCountsMatchChanges(service.app, job);
    expect(steps).toEqual(expect.arrayContaining(['search index dropped', 'search index built']));
    expect(steps.indexOf('search index dropped')).toBeLessThan(steps.indexOf('parts'));
    expect(steps.indexOf('search index built')).toBeLessThan(steps.indexOf('finish'));
    const after = await searchIndex();
    expect(after).toEqual({ oid: expect.any(Number), valid: true });
    expect(after!.oid).not.toBe(before!.oid);
    expect(await searchFinds('zyx123@')).toEqual(['zyx123@uni.edu']);
  });

  it('a load smaller than the threshold, or than the students stored, keeps it up row by row', async () => {
    await importRows(students(300, 'Old'));
    const before = await searchIndex();
    const fewer = await importRows(students(250, 'New'), { bulkLoadStudents: 200 }); // 250 < 300 stored
    const small = await importRows(students(150, 'Tiny'), { bulkLoadStudents: 200 }); // 150 < the threshold
    for (const run of [fewer, small]) {
      expect(run.job.status).toBe('completed');
      expect(run.steps).not.toContain('search index dropped');
      expect(run.steps).not.toContain('search index built');
    }
    expect(await searchIndex()).toEqual(before);
    expect(await searchFinds('new249@')).toEqual(['new249@uni.edu']);
  });

  it('a busy students table: the drop gives up after its lock timeout and the import keeps the index', async () => {
    const before = await searchIndex();
    const reader = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await reader.connect();
    try {
      // A long read of the students (an export streaming, say) holds a lock the drop must wait for.
      await reader.query('begin');
      await reader.query('lock table students in access share mode');
      const { job, steps } = await importRows(students(300, 'Busy'), { bulkLoadStudents: 200 });
      expect(job.status).toBe('completed');
      expect(steps).not.toContain('search index dropped');
      expect(await searchIndex()).toEqual(before);
    } finally {
      await reader.query('rollback');
      await reader.end();
    }
  });

  it('an import finding it missing (a bulk load cut short) builds it before it completes', async () => {
    await sql('drop index students_search_trgm_idx');
    const { job, steps } = await importRows(students(5, 'After'));
    expect(job.status).toBe('completed');
    expect(steps).toContain('search index built');
    expect(await searchIndex()).toEqual({ oid: expect.any(Number), valid: true });
  });

  it('writers holding the students table: the build gives up after its lock timeout, the import completes, the reconciler builds it later', async () => {
    await sql('drop index students_search_trgm_idx');
    const writer = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await writer.connect();
    try {
      // A transaction that wrote a student and stays open: the build would wait for it, and every writer behind the build.
      await writer.query('begin');
      await writer.query(`insert into students (name, email) values ('Held Open', 'held@uni.edu')`);
      const { job, steps, warnings } = await importRows(students(5, 'During'));
      expect(job.status).toBe('completed');
      expect(job.counts).toMatchObject({ students_created: 5 });
      expect(steps).not.toContain('search index built');
      expect(warnings).toEqual([expect.stringContaining('search index not built: writers of students held the table')]);
      expect(await searchIndex()).toBeNull();
      expect(await searchFinds('during3@')).toEqual(['during3@uni.edu']); // found all the same, without the index
    } finally {
      await writer.query('rollback');
      await writer.end();
    }
    expect(await reconcileOnce(deps, 0)).toMatchObject({ searchIndexBuilt: true });
    expect(await searchIndex()).toEqual({ oid: expect.any(Number), valid: true });
  });
});

describe('the reconciler', () => {
  it('builds a missing search index when no import runs, and leaves it to the import while one does', async () => {
    await sql('drop index students_search_trgm_idx');
    const importer = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await importer.connect();
    try {
      await importer.query('select pg_advisory_lock($1)', [LOCKS.imports]); // as a running import holds it
      expect(await reconcileOnce(deps, 0)).toMatchObject({ searchIndexBuilt: false });
      expect(await searchIndex()).toBeNull();
      await importer.query('select pg_advisory_unlock($1)', [LOCKS.imports]);
      expect(await reconcileOnce(deps, 0)).toMatchObject({ searchIndexBuilt: true });
      expect(await searchIndex()).toEqual({ oid: expect.any(Number), valid: true });
      expect(await reconcileOnce(deps, 0)).toMatchObject({ searchIndexBuilt: false }); // there already
    } finally {
      await importer.end();
    }
  });
});
