import pg from 'pg';
import type { Logger } from '../process/logger.js';
import { lockSession, unlockSession } from './locks.js';
import { initORM, withPgClient } from './orm.js';

/** Creates the database named in `databaseUrl` when it does not exist. Safe when raced. */
export async function createDatabaseIfMissing(databaseUrl: string, logger: Logger): Promise<boolean> {
  const url = new URL(databaseUrl);
  const dbName = decodeURIComponent(url.pathname.slice(1));
  if (!dbName) throw new Error('DATABASE_URL names no database');
  url.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: url.toString() });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('select 1 from pg_database where datname = $1', [dbName]);
    if (rowCount) return false;
    await admin.query(`create database ${pg.escapeIdentifier(dbName)}`);
    logger.info({ database: dbName }, 'created database');
    return true;
  } catch (err) {
    // Another process created it between our check and our create: that is success too.
    const code = (err as { code?: string }).code;
    if (code === '42P04' || code === '23505') return false;
    throw err;
  } finally {
    await admin.end();
  }
}

/**
 * Creates the database if needed and applies every pending migration. Concurrent callers wait
 * on one advisory lock, so two processes starting at once apply each migration exactly once.
 * Returns the names of the migrations this call applied.
 */
export async function migrate(databaseUrl: string, logger: Logger): Promise<string[]> {
  await createDatabaseIfMissing(databaseUrl, logger);
  const orm = await initORM(databaseUrl, 2);
  try {
    return await withPgClient(orm, async (lock) => {
      await lockSession(lock, 'migration');
      try {
        const applied = await orm.getMigrator().up();
        const names = applied.map((m) => m.name);
        logger.info({ applied: names }, names.length ? 'migrations applied' : 'database schema is up to date');
        return names;
      } finally {
        await unlockSession(lock, 'migration');
      }
    });
  } finally {
    await orm.close();
  }
}
