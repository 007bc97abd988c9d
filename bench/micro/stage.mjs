// Times the stage alone, parser thread and COPY, the way the worker stages a file:
// `npm run build && DATABASE_URL=postgres://… node --max-old-space-size=128 --max-semi-space-size=4 bench/micro/stage.mjs ROSTER.csv`
// on a migrated database (`npm run migrate`). Writes a stage table of its own (dropped after) and prints ms and peak RSS.
import { createReadStream } from 'node:fs';
import pg from 'pg';
import { parseInThread } from '../../dist/src/imports/batch-parser.js';
import { copyIntoStage, createStage } from '../../dist/src/imports/import-work.repository.js';

const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
await client.connect();
const t = { stage: 'import_work.stage_micro', plan: 'import_work.plan_micro', sweep: 'import_work.sweep_micro' };
async function* chunks(file) {
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) yield chunk;
}
let peak = 0;
const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
await client.query('begin');
await createStage(client, t, 200);
const started = performance.now();
let rows = 0;
for await (const batch of parseInThread(chunks(process.argv[2]), { mode: 'set', skip: 0, size: 5000 })) {
  await copyIntoStage(client, t, batch.copy);
  rows += batch.staged;
}
const ms = performance.now() - started;
await client.query('rollback');
clearInterval(sampler);
console.log(`stage ${rows} rows ${Math.round(ms)} ms, peak RSS ${Math.round(peak / 2 ** 20)} MiB`);
await client.end();
