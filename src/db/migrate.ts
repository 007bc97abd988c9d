import { assertSchemaCompatibility, LATEST_SCHEMA_VERSION, runMigrations, SchemaMigrationRequiredError } from 'bullmq';
import type { Options } from '@mikro-orm/postgresql';
import pg from 'pg';
import type { Logger } from '../process/logger.js';
import { lockSession, unlockSession } from './locks.js';
import { initORM, withPgClient, type Orm } from './orm.js';
import { BULLMQ_SCHEMA } from '../queues/backend.js';

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
 * The ORM options that give it MikroORM's migrator over our explicit migration list. Loaded only
 * when asked: the migrations and the migrator are no part of a running service.
 */
export async function migratorOptions(): Promise<Partial<Options>> {
  const [{ Migrator }, { migrationsList }] = await Promise.all([import('@mikro-orm/migrations'), import('../../migrations/index.js')]);
  return {
    extensions: [Migrator],
    migrations: { tableName: 'mikro_orm_migrations', migrationsList, transactional: true, allOrNothing: true, snapshot: false, silent: true },
  };
}

/**
 * Creates the database if needed and applies every pending migration; with `queueSchema` (the
 * PostgreSQL queue backend) BullMQ's own migrations too, into the schema `bullmq`, before any
 * queue is made (a BullMQ queue made before them stays broken). Concurrent callers wait on one
 * advisory lock, so processes starting at once apply each migration exactly once. Returns the
 * names of the migrations this call applied (BullMQ's as `bullmq@<version>`).
 */
export async function migrate(databaseUrl: string, logger: Logger, opts: { queueSchema?: boolean } = {}): Promise<string[]> {
  await createDatabaseIfMissing(databaseUrl, logger);
  const orm = await initORM(databaseUrl, 2, await migratorOptions());
  try {
    return await withPgClient(orm, async (lock) => {
      await lockSession(lock, 'migration');
      try {
        const applied = await orm.getMigrator().up();
        const names = applied.map((m) => m.name);
        if (opts.queueSchema) names.push(...(await migrateQueueSchema(lock)));
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

/** BullMQ's migrations (idempotent; BullMQ takes a lock of its own too). Returns `bullmq@N` when it moved to version N. */
async function migrateQueueSchema(client: pg.ClientBase): Promise<string[]> {
  const before = await assertSchemaCompatibility(client, BULLMQ_SCHEMA).catch((err: unknown) => {
    if (err instanceof SchemaMigrationRequiredError) return 0;
    throw err;
  });
  const after = await runMigrations(client, BULLMQ_SCHEMA);
  return after === before ? [] : [`bullmq@${after}`];
}

/** BullMQ's schema is missing or too old on the PostgreSQL queue backend; the message names the fix. */
export class QueueSchemaMissingError extends Error {
  override name = 'QueueSchemaMissingError';
}

/**
 * Fails with a message naming the fix when BullMQ's schema is missing or too old (the PostgreSQL
 * queue backend): BullMQ queues and workers made before its migrations stay broken.
 */
export async function assertQueueSchema(orm: Orm): Promise<void> {
  await withPgClient(orm, async (client) => {
    const version = await assertSchemaCompatibility(client, BULLMQ_SCHEMA).catch((err: unknown) => {
      if (err instanceof SchemaMigrationRequiredError) return 0;
      throw err;
    });
    if (version < LATEST_SCHEMA_VERSION) {
      throw new QueueSchemaMissingError(`QUEUE_BACKEND=postgres: BullMQ's schema "${BULLMQ_SCHEMA}" is not migrated in this database; run \`npm run migrate\` with QUEUE_BACKEND=postgres first`);
    }
  });
}
