import type { Orm } from '../db/orm.js';
import { inTransaction } from '../db/transaction.js';
import { parseInThread } from './batch-parser.js';
import { ImportFileError, MAX_RECORD_BYTES } from './csv-reader.js';
import { createFileScan, rowsOf, type FileScan } from './csv-scan.js';
import { readImportRecords, type ImportHeader } from './import-rows.js';
import { stagedBatches } from './staged-batch.js';
import { copyIntoStage, createStage, finishStage, stagedRows, type WorkTables } from './import-work.repository.js';
import { recordScanProgress, resetImport, saveImportState, tuneImportTransaction, writeRowErrors, type ImportJob, type ImportState } from './import.repository.js';
import { readUpload } from './upload.repository.js';

/** Rows parsed per staged batch (bounds the parser's memory). */
const STAGE_BATCH_ROWS = 5_000;
/** Files smaller than this are parsed on the worker's own thread. */
const IN_PROCESS_BYTES = 256 * 1024;

/**
 * Checks the whole file before anything is applied: the header (parsed), then the CSV syntax of
 * every byte and the row count, as scanned while the file was uploaded (or, for a job accepted
 * without that scan, scanned here, reporting the estimated total meanwhile).
 */
export async function scanFile(orm: Orm, job: ImportJob): Promise<void> {
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

async function scanStoredFile(orm: Orm, job: ImportJob): Promise<FileScan> {
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

/** Thrown out of the staging transaction so that it rolls back. */
class HandBack extends Error {}

/**
 * The file's rows in the job's stage table, parsed and validated once, in one transaction; the
 * invalid rows reported (and counted with the first part, so that progress moves with the parts). Staged again when the table was lost (PostgreSQL crashed,
 * which empties unlogged tables): from scratch before any part was applied, else keeping the job's
 * counts and row errors (those of the invalid rows were written the first time).
 */
export async function ensureStaged(
  orm: Orm,
  job: ImportJob,
  t: WorkTables,
  opts: { stopping(): boolean; rowsPerPart: number },
): Promise<ImportState | 'handed_back'> {
  const kept = job.state;
  if (kept && (await inTransaction(orm, (c) => stagedRows(c, t))) === kept.staged) return kept;
  const fresh = !kept || kept.done.length === 0;
  const parts = Math.max(1, Math.ceil((job.total ?? 0) / opts.rowsPerPart));
  const sync = job.payload.mode === 'sync';
  try {
    return await inTransaction(orm, async (client) => {
      await tuneImportTransaction(client);
      if (fresh) await resetImport(client, job.id);
      await createStage(client, t, parts);
      let staged = 0;
      let invalid = 0;
      let errors = 0;
      const options = { mode: sync ? ('add' as const) : job.payload.mode === 'add' ? ('add' as const) : ('set' as const), skip: 0, size: STAGE_BATCH_ROWS, names: sync };
      // A small file is parsed here: a thread of its own would take longer to start than to parse it.
      const chunks = readUpload(orm, job.payload.upload_id);
      const batches = job.payload.size_bytes < IN_PROCESS_BYTES ? stagedBatches(chunks, options) : parseInThread(chunks, options);
      for await (const batch of batches) {
        if (opts.stopping()) throw new HandBack();
        await copyIntoStage(client, t, batch.copy);
        staged += batch.staged;
        invalid += batch.rows - batch.valid;
        if (fresh) await writeRowErrors(client, job.id, errors + 1, batch.errors);
        errors += batch.errors.length;
      }
      await finishStage(client, t);
      const state: ImportState = fresh
        ? { phase: 'staged', parts, staged, invalid, stagedErrors: errors, errors, done: [] }
        : { ...kept!, phase: 'staged', staged };
      await saveImportState(client, job.id, state);
      return state;
    });
  } catch (err) {
    if (err instanceof HandBack) return 'handed_back';
    throw err;
  }
}
