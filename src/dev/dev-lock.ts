import { readFile, unlink, writeFile } from 'node:fs/promises';
import { alive } from './embedded-postgres.js';

/** Another `npm run dev` holds this data directory. */
export class DevAlreadyRunningError extends Error {
  override name = 'DevAlreadyRunningError';
}

/**
 * One `npm run dev` per data directory: `file` holds the pid of the one running. A second is
 * refused while that process lives; a file left by one that was killed is taken over.
 * Returns the release (idempotent).
 */
export async function lockDataDir(file: string, dataDir: string): Promise<() => Promise<void>> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(file, `${process.pid}\n`, { flag: 'wx' });
      let released = false;
      return async () => {
        if (released) return;
        released = true;
        await unlink(file).catch(() => {});
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number((await readFile(file, 'utf8').catch(() => '')).trim());
      if (pid && pid !== process.pid && alive(pid)) {
        throw new DevAlreadyRunningError(`npm run dev is already running on ${dataDir} (pid ${pid}): use that one, or stop it (Ctrl-C there, or kill -INT ${pid}) first`);
      }
      await unlink(file).catch(() => {}); // left by a run that was killed
    }
  }
  throw new DevAlreadyRunningError(`another npm run dev is starting on ${dataDir} right now`);
}
