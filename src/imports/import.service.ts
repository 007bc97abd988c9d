import type pg from 'pg';
import { addCounts, zeroCounts, type Counts } from '../domain/counts.js';
import { inApplyTransaction } from '../db/apply-transaction.js';
import { inTransaction } from '../db/transaction.js';
import type { Orm } from '../db/orm.js';
import type { FinishedStatus } from '../jobs/job.model.js';
import { ImportFileError, MAX_RECORD_BYTES } from './csv-reader.js';
import { createFileScan, rowsOf, type FileScan } from './csv-scan.js';
import { applyImportBatch, type BatchOutcome } from './import-batch.js';
import { readImportRecords, type ImportHeader } from './import-rows.js';
import { parseInThread } from './batch-parser.js';
import { createBatchSizer, type BatchSizer } from './batch-size.js';
import type { StagedBatch } from './staged-batch.js';
import {
  finishImportJob,
  lockImportJob,
  nextErrorSeq,
  recordScanProgress,
  reportDryRunBatch,
  resetImportProgress,
  startImportJob,
  tuneImportTransaction,
  writeCheckpoint,
  type ImportJobState,
} from './import.repository.js';
import { readUpload } from './upload.repository.js';

/**
 * Runs one CSV import to its end, or to the next batch boundary when asked to stop.
 * 1. First attempt only: the whole file is read once without touching the roster (header,
 *    CSV syntax, row count), so a file that is not a roster fails before anything is applied.
 * 2. Rows are applied in batches; each batch commits with the job's checkpoint (rows consumed,
 *    counts, its row errors) in one transaction under the apply lock. A resumed import re-reads
 *    the file and skips the rows its checkpoint says are done, so nothing is doubled.
 * 3. Cancellation is checked at every batch, under the same lock as the checkpoint.
 */

export type ImportControl = {
  /** True once the worker is shutting down: hand the import back at the next batch boundary. */
  stopping(): boolean;
  /** Rows per batch; by default adapted to how fast batches apply (batch-size.ts). */
  batchRows?: number;
};

/** `finished`: the job is in a final state (maybe by another hand); `handed_back`: stopped for shutdown. */
export type ImportOutcome = 'finished' | 'handed_back';

/** Another worker advanced the checkpoint under us: stop without writing anything. */
export class LostImportError extends Error {
  override name = 'LostImportError';
}

export async function runImport(orm: Orm, jobId: string, control: ImportControl): Promise<ImportOutcome> {
  const job = await startImportJob(orm, jobId);
  if (!job) return 'finished';
  try {
    // Not `total`: the check writes estimates of it as it goes, and may have been cut short.
    if (!job.scanned) await scanFile(orm, job);
    return job.payload.dry_run ? await dryRun(orm, job, control) : await applyFile(orm, job, control);
  } catch (err) {
    if (!(err instanceof ImportFileError)) throw err;
    await inTransaction(orm, (client) =>
      finishImportJob(client, job.id, {
        status: 'failed',
        processed: 0,
        counts: job.counts,
        error: { code: err.code, message: err.message },
        exactTotal: false,
      }),
    );
    return 'finished';
  }
}

/**
 * Checks the whole file before anything is applied: the header (parsed), then the CSV syntax of
 * every byte and the row count, as scanned while the file was uploaded (or, for a job accepted
 * without that scan, scanned here, reporting the estimated total meanwhile).
 */
async function scanFile(orm: Orm, job: ImportJobState): Promise<void> {
  let header: ImportHeader | null = null;
  for await (const item of readImportRecords(readUpload(orm, job.payload.upload_id))) {
    if ('header' in item) {
      header = item.header;
      break;
    }
  }
  const scan = job.payload.scan ?? (await scanStoredFile(orm, job));
  if ('error' in scan) throw new ImportFileError(scan.error.code, scan.error.message);
  const total = rowsOf(scan);
  await recordScanProgress(orm, job.id, total, header!.warnings);
  job.total = total;
}

async function scanStoredFile(orm: Orm, job: ImportJobState): Promise<FileScan> {
  const scan = createFileScan(MAX_RECORD_BYTES);
  let bytes = 0;
  let lastReport = Date.now();
  for await (const chunk of readUpload(orm, job.payload.upload_id)) {
    scan.push(chunk);
    bytes += chunk.length;
    if (Date.now() - lastReport > 500) {
      lastReport = Date.now();
      await recordScanProgress(orm, job.id, Math.round((scan.recordsSoFar() * job.payload.size_bytes) / bytes));
    }
  }
  return scan.end();
}

/** The file's rows in staged batches, skipping the first `skip` rows (already applied), parsed in a thread of their own. */
function batchesOf(orm: Orm, job: ImportJobState, skip: number, sizer: BatchSizer): AsyncGenerator<StagedBatch> {
  return parseInThread(readUpload(orm, job.payload.upload_id), { mode: job.payload.mode, skip, size: sizer.size() }, sizer.size);
}

/**
 * Applies a batch and tells the sizer how long it took: only the batch's own statements, not the
 * wait for the apply lock, so commands applied meanwhile do not shrink the batches.
 */
async function applyTimed(client: pg.ClientBase, staged: StagedBatch, sizer: BatchSizer): Promise<BatchOutcome> {
  const started = performance.now();
  const batch = await applyImportBatch(client, staged);
  sizer.observe(staged.rows, performance.now() - started);
  return batch;
}

async function applyFile(orm: Orm, job: ImportJobState, control: ImportControl): Promise<ImportOutcome> {
  let { processed, counts } = job;
  let errorSeq = await nextErrorSeq(orm, job.id);
  const sizer = createBatchSizer(control.batchRows);
  for await (const staged of batchesOf(orm, job, processed, sizer)) {
    if (control.stopping()) return 'handed_back';
    const next = await inApplyTransaction(orm, async (client) => {
      await tuneImportTransaction(client);
      const state = await lockImportJob(client, job.id);
      if (!state || state.status !== 'running') return 'finished' as const;
      if (state.processed !== processed) throw new LostImportError(`import ${job.id}: checkpoint moved from ${processed} to ${state.processed}`);
      if (state.cancelRequested) {
        await finishImportJob(client, job.id, { status: 'cancelled', processed, counts, exactTotal: false });
        return 'finished' as const;
      }
      const batch = await applyTimed(client, staged, sizer);
      const checkpoint = {
        processed: processed + staged.rows,
        counts: addCounts(counts, batch.counts),
        errors: batch.errors,
        firstErrorSeq: errorSeq,
        applied: batch.counts.valid,
      };
      await writeCheckpoint(client, job.id, checkpoint);
      return checkpoint;
    });
    if (next === 'finished') return 'finished';
    // Only a committed checkpoint moves the local one.
    ({ processed, counts } = next);
    errorSeq += next.errors.length;
  }
  await inTransaction(orm, async (client) => {
    const state = await lockImportJob(client, job.id);
    if (!state || state.status !== 'running') return;
    if (state.processed !== processed) throw new LostImportError(`import ${job.id}: checkpoint moved from ${processed} to ${state.processed}`);
    await finishImportJob(client, job.id, { status: finalStatus(counts), processed, counts, exactTotal: true });
  });
  return 'finished';
}

const finalStatus = (counts: Counts): FinishedStatus => (counts.invalid > 0 ? 'completed_with_errors' : 'completed');

/** Thrown out of the dry run's transaction so that it rolls back. */
class DryRunEnd extends Error {
  constructor(readonly reason: 'done' | 'cancelled' | 'handed_back') {
    super(`dry run ${reason}`);
  }
}

/**
 * A dry run applies the same batches in ONE transaction under the apply lock and rolls it back:
 * it reports exactly what the import would report at that moment and changes nothing. It holds
 * the apply lock (so other writes wait) for its whole duration. Interrupted, it starts over.
 */
async function dryRun(orm: Orm, job: ImportJobState, control: ImportControl): Promise<ImportOutcome> {
  await resetImportProgress(orm, job.id);
  let processed = 0;
  let counts = zeroCounts();
  let errorSeq = 1;
  let reason: DryRunEnd['reason'];
  try {
    await inApplyTransaction(orm, async (client) => {
      await tuneImportTransaction(client);
      const sizer = createBatchSizer(control.batchRows);
      for await (const staged of batchesOf(orm, job, 0, sizer)) {
        if (control.stopping()) throw new DryRunEnd('handed_back');
        const batch = await applyTimed(client, staged, sizer);
        processed += staged.rows;
        counts = addCounts(counts, batch.counts);
        const { cancelRequested } = await reportDryRunBatch(orm, job.id, { processed, counts, errors: batch.errors, firstErrorSeq: errorSeq });
        errorSeq += batch.errors.length;
        if (cancelRequested) throw new DryRunEnd('cancelled');
      }
      throw new DryRunEnd('done');
    });
    throw new Error('unreachable: the dry run transaction must roll back');
  } catch (err) {
    if (!(err instanceof DryRunEnd)) throw err;
    reason = err.reason;
  }
  if (reason === 'handed_back') return 'handed_back';
  await inTransaction(orm, (client) =>
    finishImportJob(client, job.id, {
      status: reason === 'cancelled' ? 'cancelled' : finalStatus(counts),
      processed,
      counts,
      exactTotal: reason === 'done',
    }),
  );
  return 'finished';
}
