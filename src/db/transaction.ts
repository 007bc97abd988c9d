import type pg from 'pg';
import { withPgClient, type Orm } from './orm.js';

/**
 * Runs `fn` in a transaction on a pooled client: commit when it returns, roll back when it throws
 * (or returns early), and the client always goes back to the pool outside any transaction.
 */
export async function inTransaction<T>(orm: Orm, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return withPgClient(orm, async (client) => {
    await client.query('begin');
    try {
      const result = await fn(client);
      await client.query('commit');
      return result;
    } catch (err) {
      await client.query('rollback').catch(() => {});
      throw err;
    }
  });
}
