import { randomUUID } from 'node:crypto';

/** The answer to an accepted write (CONTRACT §4): 202 with the job's id and where to poll it. */
export type Accepted = { status: 202; body: { job_id: string; status_url: string } };

export const statusUrl = (jobId: string) => `/api/v1/jobs/${jobId}`;

/** A new job id and the 202 that answers it. */
export function newAccepted(): Accepted {
  const id = randomUUID();
  return { status: 202, body: { job_id: id, status_url: statusUrl(id) } };
}
