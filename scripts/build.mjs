// `npm run build`: compiles src/, workers/ and migrations/ into dist/ (emit only; `npm run typecheck`
// checks the types). Processes started at the same moment from one checkout (several `npm run
// migrate`, say) each build before they run, so none may load a half-written file: tsc writes into
// a directory of this build's own, and each file is then renamed into dist/, which replaces it
// atomically. Builds of the same sources give the same files, so a mix of two builds is harmless.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';

const staging = `dist.building-${process.pid}`;

/** Moves every file under `from` to the same place under `to`, one atomic rename each. */
function moveInto(from, to) {
  mkdirSync(to, { recursive: true });
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const source = path.join(from, entry.name);
    const target = path.join(to, entry.name);
    if (entry.isDirectory()) moveInto(source, target);
    else renameSync(source, target);
  }
}

try {
  execFileSync('tsc', ['-p', 'tsconfig.build.json', '--noCheck', '--outDir', staging], { stdio: 'inherit' });
  moveInto(staging, 'dist');
} finally {
  rmSync(staging, { recursive: true, force: true });
}
