// Times the accept-time CSV scan and the SHA-256 of an upload, 3 times: `npm run build && node bench/micro/scan.mjs ROSTER.csv`.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createCsvScanner } from '../../dist/src/imports/csv-scan.js';

const data = readFileSync(process.argv[2]);
for (let round = 0; round < 3; round++) {
  let started = performance.now();
  const scanner = createCsvScanner(1 << 20);
  // In the pieces an HTTP body arrives in.
  for (let at = 0; at < data.length; at += 65536) scanner.push(data.subarray(at, at + 65536));
  const { records } = scanner.end();
  const scanMs = performance.now() - started;
  started = performance.now();
  createHash('sha256').update(data).digest('hex');
  console.log(`scan ${Math.round(scanMs)} ms (${records} records), sha256 ${Math.round(performance.now() - started)} ms`);
}
