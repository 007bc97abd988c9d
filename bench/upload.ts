import { createReadStream, readFileSync, statSync } from 'node:fs';
import { Readable } from 'node:stream';
import pg from 'pg';
import { fmt, TOKENS } from './support.js';

/** What the import benchmarks share: uploading a file end to end, a process's peak memory, comparing rosters. */

/** Samples a process's resident memory every 50 ms; `stop()` returns the peak in MiB. */
export function sampleRss(pid: number) {
  let peak = 0;
  const timer = setInterval(() => {
    try {
      const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
      peak = Math.max(peak, kb / 1024);
    } catch {
      // the process is gone
    }
  }, 50);
  return { stop: () => (clearInterval(timer), peak) };
}

/** Every student's name, email and enrollments, as one digest: the service's tables must equal the baseline's. */
const ROSTER_DIGEST = `
  select count(*) as rows, md5(string_agg(concat_ws(',', s.name, s.email, c.name, e.active), E'\\n' order by lower(s.email), lower(c.name))) as digest
    from students s join course_enrollments e on e.student_id = s.id join courses c on c.id = e.course_id`;

export async function sameRoster(serviceUrl: string, baselineUrl: string): Promise<void> {
  const [service, baseline] = await Promise.all(
    [serviceUrl, baselineUrl].map(async (connectionString) => {
      const client = new pg.Client({ connectionString });
      await client.connect();
      try {
        return (await client.query<{ rows: string; digest: string }>(ROSTER_DIGEST)).rows[0]!;
      } finally {
        await client.end();
      }
    }),
  );
  if (service!.digest !== baseline!.digest) throw new Error(`the service's roster differs from the SQL baseline's: ${JSON.stringify({ service, baseline })}`);
  console.log(`    roster identical to the SQL baseline's (${service!.rows} enrollments)`);
}

/** Uploads the file (streamed) and waits for the job; returns seconds end to end and the job. */
export async function importOnce(port: number, file: string, query = ''): Promise<{ seconds: number; job: any }> {
  const start = performance.now();
  const res = await fetch(`http://127.0.0.1:${port}/api/v1/admin/imports${query ? `?${query}` : ''}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${TOKENS.admin}`, 'Content-Type': 'text/csv', 'Content-Length': String(statSync(file).size) },
    body: Readable.toWeb(createReadStream(file)) as ReadableStream,
    duplex: 'half',
  } as RequestInit);
  if (res.status !== 202) throw new Error(`upload answered ${res.status}: ${await res.text()}`);
  const { job_id } = (await res.json()) as { job_id: string };
  const uploaded = performance.now();
  for (;;) {
    const job = (await (await fetch(`http://127.0.0.1:${port}/api/v1/jobs/${job_id}`, { headers: { Authorization: `Bearer ${TOKENS.admin}` } })).json()) as any;
    if (!['queued', 'running'].includes(job.status)) {
      if (job.status === 'awaiting_approval') throw new Error(`the import was held for approval: ${JSON.stringify(job.hold)}`);
      const seconds = (performance.now() - start) / 1000;
      console.log(`    upload ${fmt((uploaded - start) / 1000, 2)} s, total ${fmt(seconds, 2)} s, status ${job.status}, counts ${JSON.stringify(job.counts)}`);
      return { seconds, job };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}


/** Reverts a job (POST /jobs/{id}/revert) and waits for the revert; returns seconds end to end and the revert job. */
export async function revertOnce(port: number, jobId: string): Promise<{ seconds: number; job: any }> {
  const auth = { Authorization: `Bearer ${TOKENS.admin}` };
  const start = performance.now();
  const res = await fetch(`http://127.0.0.1:${port}/api/v1/jobs/${jobId}/revert`, { method: 'POST', headers: auth });
  if (res.status !== 202) throw new Error(`revert answered ${res.status}: ${await res.text()}`);
  const { job_id } = (await res.json()) as { job_id: string };
  for (;;) {
    const job = (await (await fetch(`http://127.0.0.1:${port}/api/v1/jobs/${job_id}`, { headers: auth })).json()) as any;
    if (!['queued', 'running'].includes(job.status)) {
      const seconds = (performance.now() - start) / 1000;
      console.log(`    revert ${fmt(seconds, 2)} s, status ${job.status}, counts ${JSON.stringify(job.counts)}`);
      return { seconds, job };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
