// Times the first slice of the whole-file plan of ROSTER against the roster of DATABASE_URL (a migrated database, such as
// the one a bench run leaves): `npm run build && MODE=add SLICES=2 [EXPLAIN=1] DATABASE_URL=postgres://… node bench/micro/plan.mjs ROSTER.csv`.
// MODE is the import's mode (default set); EXPLAIN=1 prints the plan's EXPLAIN ANALYZE (auto_explain, as superuser). Work tables of its own, dropped after.
import pg from 'pg';
import { finishStage } from '../../dist/src/imports/import-work.repository.js';
import { createPlan, planRows, planSlices } from '../../dist/src/imports/import-plan.repository.js';
import { tuneImportTransaction } from '../../dist/src/imports/import.repository.js';
import { MICRO_TABLES as t, stageFile } from './support.mjs';
const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
await client.connect();
client.on('notice', (n) => { if (String(n.message).includes('Query Text')) console.log(n.message); });
const parts = 200;
await client.query('begin'); await tuneImportTransaction(client);
await stageFile(client, process.argv[2], { mode: process.env.MODE ?? 'set', parts });
await finishStage(client, t);
await createPlan(client, t);
await client.query('commit');
const slices = planSlices(parts, Number(process.env.SLICES ?? 2));
if (process.env.EXPLAIN) await client.query("load 'auto_explain'; set auto_explain.log_min_duration = 0; set auto_explain.log_analyze = on; set auto_explain.log_buffers = on; set auto_explain.log_level = notice; set auto_explain.log_nested_statements = on");
for (const s of slices.slice(0, 1)) {
  await client.query('begin'); await tuneImportTransaction(client);
  const t0 = performance.now();
  await planRows(client, t, s, null);
  console.error(`slice ${JSON.stringify(s)} ${Math.round(performance.now() - t0)} ms`);
  await client.query('commit');
}
await client.query(`drop table ${t.stage}, ${t.plan}`);
await client.end();
