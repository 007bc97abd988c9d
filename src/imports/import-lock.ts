import { setTimeout as sleep } from 'node:timers/promises';
import { tryLockSession, unlockSession } from '../db/locks.js';
import { withPgClient, type Orm } from '../db/orm.js';

const POLL_MS = 100;

/**
 * Runs `fn` holding the import lock on a dedicated connection, so that imports run one at a time
 * across all workers. Waits for the lock by polling, so a worker shutting down can give up
 * waiting (answers `handed_back`). If this process dies, PostgreSQL drops its session and the lock.
 */
export async function withImportLock<T>(orm: Orm, stopping: () => boolean, fn: () => Promise<T>): Promise<T | 'handed_back'> {
  return withPgClient(orm, async (client) => {
    for (;;) {
      if (await tryLockSession(client, 'imports')) break;
      if (stopping()) return 'handed_back';
      await sleep(POLL_MS);
    }
    try {
      return await fn();
    } finally {
      await unlockSession(client, 'imports').catch(() => {});
    }
  });
}
