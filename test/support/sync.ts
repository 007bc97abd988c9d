import { expect } from 'vitest';
import type { App } from '../../src/http/app.js';
import type { JobView } from '../../src/jobs/job-view.js';
import { ADMIN } from './env.js';
import { uploadCsv } from './imports.js';
import { jobFinished, waitForJob } from './jobs.js';

/** Helpers of the roster sync tests (CONTRACT §7). */

/** Whether a job is where no worker will move it: finished, rejected, or held for approval. */
export const jobSettled = (job: JobView): boolean => jobFinished(job) || job.status === 'awaiting_approval' || job.status === 'rejected';

/** Uploads a CSV with `mode=sync` (and `query`), checks the 202, and waits until the sync has settled (finished or held). */
export async function syncCsv(app: App, csv: string, query = ''): Promise<JobView> {
  const res = await uploadCsv(app, csv, { query: `mode=sync${query ? `&${query}` : ''}` });
  expect(res.status).toBe(202);
  return waitForJob(app, res.body.job_id, jobSettled);
}

/** POSTs an operator's action on a job (`approve`, `reject`, `cancel`) and returns status and body. */
export async function jobAction(app: App, jobId: string, action: 'approve' | 'reject' | 'cancel', headers: Record<string, string> = {}) {
  const res = await app.request(`/api/v1/jobs/${jobId}/${action}`, { method: 'POST', headers: { ...ADMIN, ...headers } });
  return { status: res.status, body: (await res.json()) as any };
}

/** A CSV with the columns name,email,course_name,action from rows given as arrays. */
export function csvOf(rows: Array<[name: string, email: string, course: string, action?: string]>): string {
  return `name,email,course_name,action\n${rows.map(([n, e, c, a = '']) => [n, e, c, a].join(',')).join('\n')}\n`;
}
