import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { FINISHED } from '../../jobs/job.model.js';
import type { JobView } from '../../jobs/job-view.js';
import { ApiError, type Client } from './client.js';
import { EXIT, exitCodeOf, UsageError } from './exit-codes.js';
import type { Io } from './io.js';
import { createProgressBar } from './progress.js';
import { readSse } from './sse.js';
import { printJobSummary } from './summary.js';

/** What `enroll import` was asked to do. */
export type ImportRequest = { file: string; mode: 'set' | 'add'; dryRun: boolean; wait: boolean };

const FIRST_ERRORS = 10;

/**
 * Streams FILE (`-` for stdin) to `POST /admin/imports` (never held in memory) with an upload
 * bar. Without `wait`, prints the job id and returns 0; with it, follows the job's events with a
 * processing bar, prints the summary and the first row errors, and returns the exit code of its
 * status.
 */
export async function importFile(client: Client, req: ImportRequest, io: Io): Promise<number> {
  const { source, size } = await openUpload(req.file, io.stdin);
  const upload = createProgressBar('upload', 'bytes', io.stderr);
  let sent = 0;
  async function* counted() {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      sent += chunk.length;
      upload.update(sent, size);
      yield chunk;
    }
  }
  const query = `mode=${req.mode}${req.dryRun ? '&dry_run=true' : ''}`;
  const res = await client.request(`/api/v1/admin/imports?${query}`, {
    method: 'POST',
    // Without a Content-Length, fetch sends the body chunked.
    headers: { 'Content-Type': 'text/csv', ...(size === null ? {} : { 'Content-Length': String(size) }) },
    body: Readable.toWeb(Readable.from(counted())) as ReadableStream<Uint8Array>,
    duplex: 'half',
  }).finally(() => upload.stop());
  const { job_id: jobId } = (await res.json()) as { job_id: string };

  if (!req.wait) {
    io.stdout.write(`${jobId}\n`);
    return EXIT.ok;
  }
  io.stderr.write(`accepted as job ${jobId}\n`);
  const job = await followJob(client, jobId, io);
  printJobSummary(job, io.stdout);
  if (job.counts.invalid > 0) {
    const errors = await client.firstErrors(jobId, FIRST_ERRORS);
    io.stdout.write(`First ${errors.length} row errors of ${job.counts.invalid}:\n`);
    for (const e of errors) {
      const where = [e.line === null ? null : `line ${e.line}`, e.column].filter(Boolean).join(', ');
      io.stdout.write(`  ${where}: ${e.message} [${e.code}]${e.value === null ? '' : ` (value: ${JSON.stringify(e.value)})`}\n`);
    }
    io.stdout.write(`All of them as CSV: enroll errors ${jobId} > errors.csv\n`);
  }
  return exitCodeOf(job.status);
}

/**
 * The bytes to upload, and their size when it is known. Only a regular file has one: a pipe or a
 * device stats as 0 bytes, so it is sent without a size (and shows no total).
 */
async function openUpload(file: string, stdin: NodeJS.ReadableStream): Promise<{ source: NodeJS.ReadableStream; size: number | null }> {
  // `/dev/stdin` is read from the stream this process already has: it cannot be opened again
  // when stdin is a socket, as Node's child processes and some shells make their pipes.
  if (file === '-' || file === '/dev/stdin') return { source: stdin, size: null };
  const stats = await stat(file).catch((err: NodeJS.ErrnoException) => {
    throw new UsageError(`cannot read ${file}: ${err.code ?? err.message}`);
  });
  return { source: createReadStream(file), size: stats.isFile() ? stats.size : null };
}

/** Follows `GET /jobs/{id}/events` to the `done` event; if the stream breaks off, polls `GET /jobs/{id}` instead. */
async function followJob(client: Client, jobId: string, io: Io): Promise<JobView> {
  const bar = createProgressBar('processing', 'rows', io.stderr);
  const show = (job: JobView) => bar.update(job.progress.processed, job.progress.total, job.status);
  try {
    try {
      const res = await client.request(`/api/v1/jobs/${jobId}/events`, { headers: { Accept: 'text/event-stream' } });
      for await (const m of readSse(res.body!)) {
        if (!('event' in m) || (m.event !== 'progress' && m.event !== 'done')) continue;
        const job = JSON.parse(m.data) as JobView;
        show(job);
        if (m.event === 'done') return job;
      }
    } catch (err) {
      if (err instanceof ApiError && err.status !== null) throw err; // the API said no: polling would too
    }
    for (;;) {
      const job = await client.job(jobId); // the stream broke off: poll instead
      show(job);
      if (FINISHED.has(job.status)) return job;
      await new Promise((r) => setTimeout(r, 1_000));
    }
  } finally {
    bar.stop();
  }
}
