import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { inTransaction } from '../db/transaction.js';
import type { Deps } from '../process/deps.js';
import { newAccepted, type Accepted } from '../jobs/accepted.js';
import { acceptOnce, fingerprintOf, KEY_HEARTBEAT_MS } from '../jobs/idempotency.js';
import type { ImportOptions, ImportPayload } from '../jobs/job.model.js';
import { insertJob } from '../jobs/job.repository.js';
import { MAX_RECORD_BYTES } from './csv-reader.js';
import { createFileScan, rowsOf, type FileScan } from './csv-scan.js';
import { deleteUpload, markUploadStored, touchUpload } from './upload.repository.js';
import { hashUpload, storeUpload, type StoredFile } from './upload.service.js';

export const IMPORTS_PATH = '/api/v1/admin/imports';

/** An upload's fingerprint: the request (method, path, options) and the SHA-256 of the file. */
export const importFingerprint = (options: ImportOptions, sha256: string) =>
  fingerprintOf('POST', IMPORTS_PATH, {
    mode: options.mode,
    dry_run: options.dryRun,
    source: options.source ?? undefined,
    file_name: options.fileName ?? undefined,
    sync: options.sync ?? undefined,
    sha256,
  });

/** `uploadedFileName`: the file's own name (a multipart part's), known once the body is read; the job's file_name when `options.fileName` is null. */
type ImportRequest = { source: AsyncIterable<Uint8Array>; options: ImportOptions; idempotencyKey: string | null; uploadedFileName?: () => string | null };

/**
 * Durably accepts a CSV import: the file streams into PostgreSQL, then the job row, the upload's
 * size and hash, and the Idempotency-Key's answer commit in one transaction before the 202 (the
 * commit wakes the workers' relay, which hands the job to BullMQ). A failed upload leaves neither
 * file nor key behind. A repeat of an answered key is read only to hash it.
 */
export async function acceptImport(deps: Pick<Deps, 'orm' | 'metrics' | 'config'>, request: ImportRequest): Promise<Accepted> {
  const { orm, config } = deps;
  // Known before the first byte, so the heartbeat keeps a slow upload from being purged as abandoned.
  const uploadId = randomUUID();
  let received: { file: StoredFile; scan: FileScan } | undefined;
  const receive = async () => {
    const heartbeat = setInterval(() => void touchUpload(orm, uploadId).catch(() => {}), KEY_HEARTBEAT_MS);
    try {
      // The whole-file CSV check runs as the bytes pass, so the worker need not read the file for it.
      const scan = createFileScan(MAX_RECORD_BYTES);
      const file = await storeUpload(orm, uploadId, request.source, config.maxUploadBytes, scan.push);
      received = { file, scan: scan.end() };
    } finally {
      clearInterval(heartbeat);
    }
  };
  const store = async (client: pg.ClientBase, accepted: Accepted) => {
    const { file, scan } = received!;
    await insertImportJob(client, accepted.body.job_id, file, scan, { ...request.options, fileName: request.options.fileName ?? request.uploadedFileName?.() ?? null });
    return importFingerprint(request.options, file.sha256);
  };
  try {
    let accepted: Accepted;
    if (request.idempotencyKey === null) {
      await receive();
      accepted = newAccepted();
      await inTransaction(orm, (client) => store(client, accepted));
    } else {
      accepted = await acceptOnce(orm, request.idempotencyKey, {
        sameRequest: async () => importFingerprint(request.options, (await hashUpload(request.source, config.maxUploadBytes)).sha256),
        prepare: receive,
        store,
      });
      if (!received) return accepted; // a replay: no new job
    }
    deps.metrics.jobsAccepted.inc({ type: 'import' });
    return accepted;
  } catch (err) {
    await deleteUpload(orm, uploadId).catch(() => {});
    throw err;
  }
}

/** The import job and its stored upload, in the caller's transaction. */
async function insertImportJob(client: pg.ClientBase, id: string, file: StoredFile, scan: FileScan, options: ImportOptions): Promise<void> {
  const payload: ImportPayload = {
    upload_id: file.uploadId,
    mode: options.mode,
    dry_run: options.dryRun,
    size_bytes: file.sizeBytes,
    sha256: file.sha256,
    scan,
    ...(options.source !== null && { source: options.source }),
    ...(options.fileName !== null && { file_name: options.fileName }),
    ...options.sync,
  };
  // Whitespace-only lines count until the import has read them. A file without rows is left to the
  // worker, which fails it (no total of 0, shown as 100% done).
  const rows = 'records' in scan ? rowsOf(scan) : 0;
  await insertJob(client, { id, type: 'import', payload, total: rows > 0 ? rows : null });
  await markUploadStored(client, { id: file.uploadId, jobId: id, sizeBytes: file.sizeBytes, sha256: file.sha256 });
}
