// Times the stage alone, parser thread and COPY, the way the worker stages a file:
// `npm run build && DATABASE_URL=postgres://… node --max-old-space-size=128 --max-semi-space-size=4 bench/micro/stage.mjs ROSTER.csv`
// on a migrated database (`npm run migrate`). Writes a stage table of its own (dropped after) and prints ms and peak RSS.
import pg from 'pg';
import { stageFile } from './support.mjs';

const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
await client.connect();
let peak = 0;
const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
await client.query('begin');
const started = performance.now();
const rows = await stageFile(client, process.argv[2]);
const ms = performance.now() - started;
await client.query('rollback');
clearInterval(sampler);
console.log(`stage ${rows} rows ${Math.round(ms)} ms, peak RSS ${Math.round(peak / 2 ** 20)} MiB`);
await client.end();
