import type { JobView } from '../../jobs/job-view.js';
import type { Client } from './client.js';
import { EXIT } from './exit-codes.js';
import { followJob } from './follow.js';
import type { Io } from './io.js';
import { reportJob } from './report.js';

/** What `enroll revert` was asked to do. */
export type RevertRequest = { jobId: string; dryRun: boolean; force: boolean; wait: boolean };

const jobPath = (id: string, action: string) => `/api/v1/jobs/${encodeURIComponent(id)}/${action}`;

/**
 * `enroll revert JOB`: `POST /jobs/{id}/revert`. Prints the revert job's id; with `wait`, follows
 * it and prints its summary and first conflicts, and returns the exit code of its status.
 */
export async function revertJob(client: Client, req: RevertRequest, io: Io): Promise<number> {
  const q = new URLSearchParams();
  if (req.dryRun) q.set('dry_run', 'true');
  if (req.force) q.set('force', 'true');
  const res = await client.request(`${jobPath(req.jobId, 'revert')}${q.size ? `?${q}` : ''}`, { method: 'POST' });
  const { job_id: revertId } = (await res.json()) as { job_id: string };
  if (!req.wait) {
    io.stdout.write(`${revertId}\n`);
    return EXIT.ok;
  }
  io.stderr.write(`accepted as job ${revertId}\n`);
  return reportJob(client, await followJob(client, revertId, io), io);
}

/**
 * `enroll approve JOB`: `POST /jobs/{id}/approve` of a held sync, which is queued to apply. Prints
 * its id; with `wait`, follows it like `import --wait` (it may hold again: exit 4).
 */
export async function approveJob(client: Client, jobId: string, wait: boolean, io: Io): Promise<number> {
  const res = await client.request(jobPath(jobId, 'approve'), { method: 'POST' });
  const { job_id: id } = (await res.json()) as { job_id: string };
  if (!wait) {
    io.stdout.write(`${id}\n`);
    return EXIT.ok;
  }
  io.stderr.write(`approved job ${id}\n`);
  return reportJob(client, await followJob(client, id, io), io);
}

/** `enroll reject JOB`: `POST /jobs/{id}/reject`; the held sync ends `rejected`, nothing applied. */
export async function rejectJob(client: Client, jobId: string, io: Io): Promise<number> {
  const res = await client.request(jobPath(jobId, 'reject'), { method: 'POST' });
  const job = (await res.json()) as JobView;
  io.stdout.write(`Job ${job.id} (${job.type}): ${job.status}, nothing was applied\n`);
  return EXIT.ok;
}
