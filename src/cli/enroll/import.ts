import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { Readable } from 'node:stream';
import type { Client } from './client.js';
import { EXIT, UsageError } from './exit-codes.js';
import { followJob } from './follow.js';
import type { Io } from './io.js';
import { createProgressBar } from './progress.js';
import { reportJob } from './report.js';

/** A roster sync's options (CONTRACT §7); absent ones take the service's defaults. */
export type SyncRequest = { scope?: 'courses' | 'all'; maxDeactivatePercent?: string; maxDeactivate?: string; maxInvalidPercent?: string };

/** What `enroll import` was asked to do. `fileName`: the job's `file_name` (default: FILE's own name, for a regular file). */
export type ImportRequest = {
  file: string;
  mode: 'set' | 'add' | 'sync';
  dryRun: boolean;
  wait: boolean;
  source?: string;
  fileName?: string;
  sync?: SyncRequest;
};

/**
 * Streams FILE (`-` for stdin) to `POST /admin/imports` (never held in memory) with an upload
 * bar. Without `wait`, prints the job id and returns 0; with it, follows the job's events with a
 * processing bar until it is finished or held for approval, prints the summary (a hold's figures
 * too) and the first row errors, and returns the exit code of its status.
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
  const res = await client.request(`/api/v1/admin/imports?${importQuery(req, size !== null)}`, {
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
  return reportJob(client, await followJob(client, jobId, io), io);
}

/** The query options of the upload; a regular file's own name is its `filename` unless one is given. */
function importQuery(req: ImportRequest, regularFile: boolean): string {
  const q = new URLSearchParams({ mode: req.mode });
  if (req.dryRun) q.set('dry_run', 'true');
  if (req.source !== undefined) q.set('source', req.source);
  const fileName = req.fileName ?? (regularFile ? basename(req.file) : undefined);
  if (fileName) q.set('filename', fileName);
  const sync = req.sync ?? {};
  if (sync.scope !== undefined) q.set('scope', sync.scope);
  if (sync.maxDeactivatePercent !== undefined) q.set('max_deactivate_percent', sync.maxDeactivatePercent);
  if (sync.maxDeactivate !== undefined) q.set('max_deactivate', sync.maxDeactivate);
  if (sync.maxInvalidPercent !== undefined) q.set('max_invalid_percent', sync.maxInvalidPercent);
  return q.toString();
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
