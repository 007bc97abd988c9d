import type { App } from '../src/http/app.js';
import type { Deps } from '../src/process/deps.js';
import type { JobView } from '../src/jobs/job-view.js';
import { ADMIN } from './support/env.js';

/** Helpers shared by the import test files (not a test file itself). */

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

/** Polls GET /jobs/{id} until `done(job)` holds, or throws after `timeoutMs`. */
export async function pollJob(app: App, jobId: string, done: (job: JobView) => boolean, timeoutMs = 30_000): Promise<JobView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await app.request(`/api/v1/jobs/${jobId}`, { headers: ADMIN });
    const job = (await res.json()) as JobView;
    if (done(job)) return job;
    if (Date.now() > deadline) throw new Error(`job ${jobId}: condition not met within ${timeoutMs} ms (last: ${JSON.stringify(job)})`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const FINISHED = new Set(['completed', 'completed_with_errors', 'failed', 'cancelled']);
export const finished = (job: JobView) => FINISHED.has(job.status);

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

/** The enrollment tables, keyed by natural keys, in a canonical order (ids left out). */
export async function rosterSnapshot(deps: Pick<Deps, 'orm'>) {
  const conn = deps.orm.em.getConnection();
  const students = await conn.execute(`select name, email from students order by lower(email)`);
  const courses = await conn.execute(`select name from courses order by lower(name)`);
  const enrollments = await conn.execute(
    `select lower(s.email) as email, lower(c.name) as course, e.active from course_enrollments e
       join students s on s.id = e.student_id join courses c on c.id = e.course_id order by 1, 2`,
  );
  return { students, courses, enrollments };
}

/** A roster CSV of `n` clean rows (name,email,course_name), students `from`.. */
export function cleanCsv(n: number, opts: { from?: number; courses?: number; course?: (i: number) => string } = {}): string {
  const from = opts.from ?? 0;
  const courses = opts.courses ?? 7;
  const lines = ['name,email,course_name'];
  for (let i = from; i < from + n; i++) lines.push(`Student ${i},student${i}@example.edu,${opts.course ? opts.course(i) : `Course ${i % courses}`}`);
  return `${lines.join('\n')}\n`;
}

