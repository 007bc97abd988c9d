import { expect } from 'vitest';
import type { App } from '../../src/http/app.js';
import type { JobView } from '../../src/jobs/job-view.js';
import { ADMIN } from './env.js';

const FINISHED = ['completed', 'completed_with_errors', 'failed', 'cancelled'];

/** Polls GET /jobs/{id} until the job has finished, or fails after `timeoutMs`. */
export async function waitForJob(app: App, jobId: string, timeoutMs = 20_000): Promise<JobView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await app.request(`/api/v1/jobs/${jobId}`, { headers: ADMIN });
    expect(res.status).toBe(200);
    const job = (await res.json()) as JobView;
    if (FINISHED.includes(job.status)) return job;
    if (Date.now() > deadline) throw new Error(`job ${jobId} still ${job.status} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
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
