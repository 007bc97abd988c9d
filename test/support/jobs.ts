import { expect } from 'vitest';
import type { App } from '../../src/http/app.js';
import type { JobView } from '../../src/jobs/job-view.js';
import { ADMIN } from './env.js';
import { waitFor, type WaitOptions } from './wait.js';

/** The final statuses of CONTRACT §4, written out here so the tests hold the code to the contract. */
const FINISHED = new Set(['completed', 'completed_with_errors', 'failed', 'cancelled']);

/** Whether a job has reached a final status. */
export const jobFinished = (job: JobView): boolean => FINISHED.has(job.status);

/** GET /jobs/{id} with the admin token; the answer must be a 200. */
export async function getJob(app: App, jobId: string): Promise<JobView> {
  const res = await app.request(`/api/v1/jobs/${jobId}`, { headers: ADMIN });
  expect(res.status).toBe(200);
  return (await res.json()) as JobView;
}

/**
 * Watches a job through GET /jobs/{id} until `done(job)` holds (by default: until it has
 * finished) and returns the job as it was then; fails after `timeoutMs`, showing the job last seen.
 */
export async function waitForJob(
  app: App,
  jobId: string,
  done: (job: JobView) => boolean = jobFinished,
  { timeoutMs = 30_000, everyMs = 20 }: WaitOptions = {},
): Promise<JobView> {
  let last: JobView | undefined;
  return waitFor(
    () => `job ${jobId} (last seen: ${JSON.stringify(last)})`,
    async () => {
      last = await getJob(app, jobId);
      return done(last) && last;
    },
    { timeoutMs, everyMs },
  );
}

/** POSTs (or PUTs) JSON with the admin token and returns status and parsed body. */
export async function send(app: App, method: string, path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await app.request(`/api/v1${path}`, {
    method,
    headers: { ...ADMIN, 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
}

/** Sends a write, checks its 202 answer, and waits for its job to finish. */
export async function applyWrite(app: App, method: string, path: string, body: unknown): Promise<JobView> {
  const res = await send(app, method, path, body);
  expect(res.status).toBe(202);
  expect(res.body).toEqual({ job_id: expect.any(String), status_url: `/api/v1/jobs/${res.body.job_id}` });
  return waitForJob(app, res.body.job_id);
}
