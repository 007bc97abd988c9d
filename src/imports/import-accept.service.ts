import { randomUUID } from 'node:crypto';
import type { Deps } from '../process/deps.js';
import { inTransaction } from '../db/transaction.js';
import { AppError } from '../http/errors.js';
import { fingerprintOf, statusUrl, type Accepted } from '../jobs/accept.service.js';
import { insertJob } from '../jobs/job.repository.js';
import {
  claimUploadKey,
  finishUploadKey,
  KEY_HEARTBEAT_MS,
  releaseUploadKey,
  touchUploadKey,
  type KeyClaim,
} from './upload-idempotency.js';
import { deleteUpload, markUploadStored, touchUpload } from './upload.repository.js';
import { hashUpload, storeUpload, type StoredFile } from './upload.service.js';
import { MAX_RECORD_BYTES } from './csv-reader.js';
import { createFileScan, rowsOf, type FileScan } from './csv-scan.js';

/** The options of an import (query string of POST /admin/imports). */
export type ImportOptions = { mode: 'set' | 'add'; dryRun: boolean };

/**
 * What an import job carries in `jobs.payload`; the file itself is in `upload_chunks`. `scan` is
 * the whole-file CSV check made while the file was uploaded (absent in jobs accepted before it
 * existed: their worker scans the stored file).
 */
export type ImportPayload = { upload_id: string; mode: 'set' | 'add'; dry_run: boolean; size_bytes: number; sha256: string; scan?: FileScan };

export const IMPORTS_PATH = '/api/v1/admin/imports';

/** An upload's fingerprint: the request (method, path, options) and the SHA-256 of the file. */
export const importFingerprint = (options: ImportOptions, sha256: string) =>
  fingerprintOf('POST', IMPORTS_PATH, { mode: options.mode, dry_run: options.dryRun, sha256 });

/**
 * Durably accepts a CSV import: the file streams into PostgreSQL, then the job row, the upload's
 * size and hash, and the Idempotency-Key's answer commit in one transaction before the 202 (the
 * commit wakes the workers' relay, which hands the job to BullMQ). A failed upload leaves neither
 * file nor key behind.
 */
export async function acceptImport(
  deps: Pick<Deps, 'orm' | 'metrics' | 'config'>,
  request: { source: AsyncIterable<Uint8Array>; options: ImportOptions; idempotencyKey: string | null },
): Promise<Accepted> {
  const { orm, config } = deps;
  const claim: KeyClaim | null = request.idempotencyKey ? await claimUploadKey(orm, request.idempotencyKey) : null;
  if (claim?.kind === 'answered') {
    const { sha256 } = await hashUpload(request.source, config.maxUploadBytes);
    if (importFingerprint(request.options, sha256) !== claim.fingerprint) {
      throw new AppError('unprocessable', 'this Idempotency-Key was used for a different request');
    }
    return claim.accepted;
  }

  // Known before the first byte, so the heartbeat keeps a slow upload from being purged as abandoned.
  const uploadId = randomUUID();
  const heartbeat = setInterval(() => {
    if (claim) void touchUploadKey(orm, claim).catch(() => {});
    void touchUpload(orm, uploadId).catch(() => {});
  }, KEY_HEARTBEAT_MS);
  let accepted: Accepted;
  try {
    // The whole-file CSV check runs as the bytes pass, so the worker need not read the file for it.
    const scan = createFileScan(MAX_RECORD_BYTES);
    const file = await storeUpload(orm, uploadId, request.source, config.maxUploadBytes, scan.push);
    accepted = await commitImport(deps, file, scan.end(), request.options, claim);
  } catch (err) {
    await deleteUpload(orm, uploadId).catch(() => {});
    if (claim) await releaseUploadKey(orm, claim).catch(() => {});
    throw err;
  } finally {
    clearInterval(heartbeat);
  }

  deps.metrics.jobsAccepted.inc({ type: 'import' });
  return accepted;
}

/** One transaction: the job, the stored upload and the key's answer. */
async function commitImport(
  deps: Pick<Deps, 'orm'>,
  file: StoredFile,
  scan: FileScan,
  options: ImportOptions,
  claim: Extract<KeyClaim, { kind: 'owned' }> | null,
): Promise<Accepted> {
  const id = randomUUID();
  const accepted: Accepted = { status: 202, body: { job_id: id, status_url: statusUrl(id) } };
  const payload: ImportPayload = {
    upload_id: file.uploadId,
    mode: options.mode,
    dry_run: options.dryRun,
    size_bytes: file.sizeBytes,
    sha256: file.sha256,
    scan,
  };
  // Whitespace-only lines count until the import has read them. A file without rows is left to the
  // worker, which fails it (no total of 0, shown as 100% done).
  const rows = 'records' in scan ? rowsOf(scan) : 0;
  const total = rows > 0 ? rows : null;
  await inTransaction(deps.orm, async (client) => {
    await insertJob(client, { id, type: 'import', payload, total });
    await markUploadStored(client, { id: file.uploadId, jobId: id, sizeBytes: file.sizeBytes, sha256: file.sha256 });
    if (claim) await finishUploadKey(client, claim, importFingerprint(options, file.sha256), id, accepted);
  });
  return accepted;
}
