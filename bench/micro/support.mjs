// What the micro benchmarks share: a roster file read in the worker's 1 MiB chunks, and staged as the worker stages it.
import { createReadStream } from 'node:fs';
import { parseInThread } from '../../dist/src/imports/batch-parser.js';
import { copyIntoStage, createStage } from '../../dist/src/imports/import-work.repository.js';

/** Work tables of the micro benchmarks' own (import_work.*_micro). */
export const MICRO_TABLES = { stage: 'import_work.stage_micro', plan: 'import_work.plan_micro', sweep: 'import_work.sweep_micro' };

/** The file in chunks of 1 MiB, as a stored upload is read back. */
export async function* fileChunks(file) {
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) yield chunk;
}

/** Creates the stage table (in `parts` parts) and COPYs the file's rows into it through the parser thread; returns the rows staged. */
export async function stageFile(client, file, { mode = 'set', parts = 200 } = {}) {
  await createStage(client, MICRO_TABLES, parts);
  let rows = 0;
  for await (const batch of parseInThread(fileChunks(file), { mode, skip: 0, size: 5000 })) {
    await copyIntoStage(client, MICRO_TABLES, batch.copy);
    rows += batch.staged;
  }
  return rows;
}
