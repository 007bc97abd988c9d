import { setTimeout as sleep } from 'node:timers/promises';
import { withPgClient, type Orm } from '../db/orm.js';

/** Any constant: the session advisory lock held by the one worker that runs imports. */
const IMPORT_LOCK_KEY = 727_004;
const POLL_MS = 100;

/**
 * Runs `fn` holding the import lock on a dedicated connection, so that imports run one at a time
 * across all workers. Waits for the lock by polling, so a worker shutting down can give up
 * waiting (answers `handed_back`). If this process dies, PostgreSQL drops its session and the lock.
 */
export async function withImportLock<T>(orm: Orm, stopping: () => boolean, fn: () => Promise<T>): Promise<T | 'handed_back'> {
  return withPgClient(orm, async (client) => {
    for (;;) {
      const { rows } = await client.query<{ ok: boolean }>('select pg_try_advisory_lock($1) as ok', [IMPORT_LOCK_KEY]);
      if (rows[0]?.ok) break;
      if (stopping()) return 'handed_back';
      await sleep(POLL_MS);
    }
    try {
      return await fn();
    } finally {
      await client.query('select pg_advisory_unlock($1)', [IMPORT_LOCK_KEY]).catch(() => {});
    }
  });
}
