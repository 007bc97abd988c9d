import { statSync } from 'node:fs';
import { HEARTBEAT_MAX_AGE_MS } from '../process/readiness.js';

/**
 * `node dist/src/cli/heartbeat-check.js FILE`: a worker container's health check. Exits 0 when the
 * worker wrote its heartbeat FILE (WORKER_HEARTBEAT_FILE) recently, else 1 with one line saying why.
 */
const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: heartbeat-check FILE\n');
  process.exit(2);
}
try {
  const age = Date.now() - statSync(file).mtimeMs;
  if (age > HEARTBEAT_MAX_AGE_MS) {
    process.stderr.write(`heartbeat ${file} is ${Math.round(age / 1000)} s old (more than ${HEARTBEAT_MAX_AGE_MS / 1000} s)\n`);
    process.exit(1);
  }
} catch (err) {
  process.stderr.write(`no heartbeat: ${(err as Error).message}\n`);
  process.exit(1);
}
