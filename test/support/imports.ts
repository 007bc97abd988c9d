import { expect } from 'vitest';
import type { App } from '../../src/http/app.js';
import type { JobView } from '../../src/jobs/job-view.js';
import { startRelay } from '../../src/jobs/relay.js';
import type { Deps } from '../../src/process/deps.js';
import { createImportWorker } from '../../workers/imports.worker.js';
import { truncateAll } from './deps.js';
import { ADMIN } from './env.js';
import { waitForJob } from './jobs.js';
import { createTestService, type TestService } from './service.js';
import { waitFor } from './wait.js';

/** Helpers shared by the import test files. */

export type UploadAnswer = { status: number; body: any };

/** POSTs a CSV body (text/csv unless told otherwise) to /admin/imports. */
export async function uploadCsv(
  app: App,
  csv: string | Buffer,
  opts: { query?: string; headers?: Record<string, string> } = {},
): Promise<UploadAnswer> {
  const res = await app.request(`/api/v1/admin/imports${opts.query ? `?${opts.query}` : ''}`, {
    method: 'POST',
    headers: { ...ADMIN, 'Content-Type': 'text/csv', ...opts.headers },
    body: typeof csv === 'string' ? csv : new Uint8Array(csv),
  });
  return { status: res.status, body: await res.json() };
}

/** Uploads a CSV, checks its 202 answer, and waits for its import to finish. */
export async function importCsv(app: App, csv: string | Buffer, query?: string): Promise<JobView> {
  const res = await uploadCsv(app, csv, { query });
  expect(res.status).toBe(202);
  expect(res.body).toEqual({ job_id: expect.any(String), status_url: `/api/v1/jobs/${res.body.job_id}` });
  return waitForJob(app, res.body.job_id);
}

/** Every row error of a job, in order, through GET /jobs/{id}/errors. */
export async function jobErrors(app: App, jobId: string): Promise<Array<{ line: number | null; column: string | null; code: string; message: string; value: string | null }>> {
  const items = [];
  let cursor: string | null = '';
  while (cursor !== null) {
    const res = await app.request(`/api/v1/jobs/${jobId}/errors?limit=1000${cursor ? `&cursor=${cursor}` : ''}`, { headers: ADMIN });
    const page = (await res.json()) as { items: any[]; next_cursor: string | null };
    items.push(...page.items);
    cursor = page.next_cursor;
  }
  return items;
}

/** A roster CSV of `n` clean rows (name,email,course_name), students `from`.. */
export function cleanCsv(n: number, opts: { from?: number; courses?: number; course?: (i: number) => string } = {}): string {
  const from = opts.from ?? 0;
  const courses = opts.courses ?? 7;
  const lines = ['name,email,course_name'];
  for (let i = from; i < from + n; i++) lines.push(`Student ${i},student${i}@example.edu,${opts.course ? opts.course(i) : `Course ${i % courses}`}`);
  return `${lines.join('\n')}\n`;
}

/**
 * The API and one import worker with its relay, on a queue prefix of their own, over empty tables.
 * Small batches (40 rows): many checkpoints even in small files, and time to cancel mid-import.
 */
export async function createImportService(): Promise<TestService> {
  const service = await createTestService();
  // Before the worker and relay start: a job another file left queued went to that file's queue,
  // and no one here would ever finish it.
  await truncateAll(service.api);
  const worker = createImportWorker(service.workerDeps, { batchRows: 40 });
  const relay = startRelay(service.workerDeps);
  return {
    ...service,
    close: async () => {
      await Promise.all([worker.close(), relay.close()]);
      await service.close();
    },
  };
}

/** Waits until no job is queued or running: an import a test left running would deadlock with the truncation. */
export async function waitForNoActiveJobs(deps: Pick<Deps, 'orm'>): Promise<void> {
  await waitFor('every job to finish', async () => {
    const [{ n }] = await deps.orm.em.getConnection().execute<[{ n: number }]>(`select count(*)::int as n from jobs where status in ('queued', 'running')`);
    return n === 0;
  }, { everyMs: 20 });
}

// Line numbers are the file's (header = line 1); line 4 spans lines 4-5; lines 6 and 7 are blank.
export const DIRTY_ROSTER =
  '\ufeff Name ,EMAIL,Course_Name,team_id,Notes,Action,status\r\n' + // 1
  'Ana Smith,ana@example.edu,Math 101,,x,,\r\n' + // 2: new student, new course
  '"Lee, Bo ""Jr""",bo@example.edu,Math 101,7,,add,\r\n' + // 3: comma and quotes in a field
  '"Multi\r\nLine Name",ml@example.edu,Physics 201,,,,\r\n' + // 4-5: a name over two lines
  '\r\n' + // 6
  '   \r\n' + // 7
  'Ana Smith,ANA@Example.EDU,physics 201,,,,\r\n' + // 8: same student and course in other letter cases: set moves her
  'Zoë Ünicode,zoe@example.edu,Art 1,,,,\r\n' + // 9
  'bad,not-an-email,Art 1,,,,\r\n' + // 10: invalid_email
  ',nobody@example.edu,Art 1,,,,\r\n' + // 11: name_required (a new student)
  'too,few,fields\r\n' + // 12: field_count
  'x,ana@example.edu,Art 1,,,bogus,\r\n' + // 13: invalid_action
  ',ana@example.edu,Physics 201,,,,Inactive\r\n' + // 14: status inactive = deactivate
  ',bo@example.edu,,,,,\r\n' + // 15: course_name required
  ',BO@example.edu,math 101,,,,\r\n'; // 16: nothing to change

/** What importing DIRTY_ROSTER into an empty roster counts. */
export const DIRTY_ROSTER_COUNTS = {
  rows: 12,
  valid: 7,
  invalid: 5,
  students_created: 4,
  students_updated: 0,
  enrollments_created: 5,
  enrollments_activated: 0,
  enrollments_deactivated: 2,
  unchanged: 1,
};
