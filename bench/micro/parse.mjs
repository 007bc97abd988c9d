// Times the import parser alone on one thread: `npm run build && node --max-semi-space-size=4 bench/micro/parse.mjs ROSTER.csv`
// (the worker's young generation; add --cpu-prof to see where the time goes). Prints rows, ms and the process's peak RSS.
import { stagedBatches } from '../../dist/src/imports/staged-batch.js';
import { fileChunks } from './support.mjs';

const started = performance.now();
let rows = 0;
for await (const batch of stagedBatches(fileChunks(process.argv[2]), { mode: 'set', skip: 0, size: 5000 })) rows += batch.staged;
console.log(`parse ${rows} rows ${Math.round(performance.now() - started)} ms, peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MiB`);
