// Times the accept-time CSV scan and the SHA-256 of an upload, 3 times: `npm run build && node bench/micro/scan.mjs ROSTER.csv`;
// then the scan, and its byte-by-byte reference, of as many bytes of quotes inside fields (`x"`), the scan's worst case.
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

const hostile = Buffer.from('x"'.repeat(Math.floor(data.length / 2)).replace(/(.{900})/g, '$1\n'));
for (const bytewise of [false, true]) {
  const started = performance.now();
  const scanner = createCsvScanner(1 << 20, { bytewise });
  for (let at = 0; at < hostile.length; at += 65536) scanner.push(hostile.subarray(at, at + 65536));
  scanner.end();
  console.log(`quotes in every field: ${bytewise ? 'byte by byte' : 'scan'} ${Math.round(performance.now() - started)} ms`);
}
