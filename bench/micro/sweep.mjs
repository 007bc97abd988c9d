// Times a sync's planSweep three times (scope courses, no source): ROSTER staged into DATABASE_URL (a database with a
// roster, such as the one `npm run bench -- sync` leaves), then the sweep planned and rolled back:
// `npm run build && [EXPLAIN=1] DATABASE_URL=postgres://…/enroll_bench_sync node bench/micro/sweep.mjs bench/.data/sync-330000-night1.csv`.
import pg from 'pg';
import { finishStage } from '../../dist/src/imports/import-work.repository.js';
import { planSweep } from '../../dist/src/imports/import-sweep.repository.js';
import { tuneImportTransaction } from '../../dist/src/imports/import.repository.js';
import { MICRO_TABLES as t, stageFile } from './support.mjs';
const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
await client.connect();
client.on('notice', (n) => { if (String(n.message).includes('Query Text')) console.log(n.message); });
await client.query('begin'); await tuneImportTransaction(client);
await stageFile(client, process.argv[2], { mode: 'add' });
await finishStage(client, t);
await client.query('commit');
if (process.env.EXPLAIN) await client.query("load 'auto_explain'; set auto_explain.log_min_duration = 0; set auto_explain.log_analyze = on; set auto_explain.log_level = notice");
for (let i = 0; i < 3; i++) {
  await client.query('begin'); await tuneImportTransaction(client);
  const t0 = performance.now();
  const r = await planSweep(client, t, { scope: 'courses', max_deactivate_percent: 10, max_deactivate: null, max_invalid_percent: 10 }, null);
  console.error(`planSweep ${Math.round(performance.now() - t0)} ms, active in scope ${r.activeInScope}`);
  await client.query('rollback');
}
await client.query(`drop table ${t.stage}`);
await client.end();
