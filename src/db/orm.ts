import { MikroORM, type Options } from '@mikro-orm/postgresql';
import type { Knex } from '@mikro-orm/knex';
import type pg from 'pg';
import { entities } from './entities.js';

export type Orm = MikroORM;

/**
 * MikroORM options for a database URL: our entities, no discovery magic. The migrator is not
 * among them: only `migrate()` loads it (src/db/migrate.ts), and a worker or API process that
 * never migrates does not carry it (about 9 MiB of RSS).
 */
export function ormOptions(databaseUrl: string, poolMax = 10): Options {
  return {
    clientUrl: databaseUrl,
    entities,
    pool: { min: 0, max: poolMax },
    // Only `npm run migrate` creates the database (migrate.ts): a misspelt DATABASE_URL must fail,
    // not quietly create an empty database (MikroORM's default).
    ensureDatabase: false,
    // The ORM is for the small, rich operations; a forgotten fork() must fail loudly.
    allowGlobalContext: false,
    debug: false,
  };
}

/** Connects the ORM (and so the one pg pool of the process); `extra`: options for one use (the migrator's). */
export async function initORM(databaseUrl: string, poolMax?: number, extra: Partial<Options> = {}): Promise<Orm> {
  return MikroORM.init({ ...ormOptions(databaseUrl, poolMax), ...extra });
}

/** The knex instance under the ORM, for set-based SQL that bypasses the identity map. */
export function knexOf(orm: Orm): Knex {
  return orm.em.getConnection().getKnex();
}

/**
 * Runs `fn` with a raw pg client from the ORM's own pool (for COPY, cursors, advisory locks and
 * explicit transactions), and always gives it back.
 */
export async function withPgClient<T>(orm: Orm, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const knexClient = knexOf(orm).client;
  const conn = (await knexClient.acquireConnection()) as pg.PoolClient;
  try {
    return await fn(conn);
  } finally {
    await knexClient.releaseConnection(conn);
  }
}

/** Runs one statement (`$1`, `$2`… parameters) on a pooled client and returns its rows. */
export async function query<R extends pg.QueryResultRow = Record<string, unknown>>(orm: Orm, text: string, values: unknown[] = []): Promise<R[]> {
  return withPgClient(orm, async (client) => (await client.query<R>(text, values)).rows);
}
