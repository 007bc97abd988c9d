import { SETTLED } from '../../jobs/job.model.js';
import type { JobView } from '../../jobs/job-view.js';
import { ApiError, type Client } from './client.js';
import type { Io } from './io.js';
import { createProgressBar } from './progress.js';
import { readSse } from './sse.js';

/**
 * Follows `GET /jobs/{id}/events` with a processing bar until the job is settled: finished, or
 * held for approval (a held sync's stream stays open, since an approval runs it again). If the
 * stream breaks off, polls `GET /jobs/{id}` instead.
 */
export async function followJob(client: Client, jobId: string, io: Io): Promise<JobView> {
  const bar = createProgressBar('processing', 'rows', io.stderr);
  const show = (job: JobView) => bar.update(job.progress.processed, job.progress.total, job.phase && job.status === 'running' ? `${job.status} (${job.phase})` : job.status);
  try {
    try {
      const res = await client.request(`/api/v1/jobs/${encodeURIComponent(jobId)}/events`, { headers: { Accept: 'text/event-stream' } });
      for await (const m of readSse(res.body!)) {
        if (!('event' in m) || (m.event !== 'progress' && m.event !== 'done')) continue;
        const job = JSON.parse(m.data) as JobView;
        show(job);
        if (m.event === 'done' || SETTLED.has(job.status)) return job;
      }
    } catch (err) {
      if (err instanceof ApiError && err.status !== null) throw err; // the API said no: polling would too
    }
    for (;;) {
      const job = await client.job(jobId); // the stream broke off: poll instead
      show(job);
      if (SETTLED.has(job.status)) return job;
      await new Promise((r) => setTimeout(r, 1_000));
    }
  } finally {
    bar.stop();
  }
}
