import type pg from 'pg';
import { lockTransaction } from './locks.js';
import type { Orm } from './orm.js';
import { inTransaction } from './transaction.js';

/** How a write holds the apply lock: alone, or shared with the other parts of one import. */
export type ApplyMode = 'exclusive' | 'shared';

/**
 * Runs `fn` in a transaction holding the apply lock. Every write to students, courses and
 * course_enrollments goes through here. Commands and reverts hold it alone, so that they apply in
 * a total order and a `set` never misses an enrollment another transaction is creating. The parts
 * of one import hold it shared: they touch disjoint students (imports never change an email, and
 * their courses are created first), so running them side by side is the same as running them one
 * after another, and one import runs at a time.
 */
export async function inApplyTransaction<T>(orm: Orm, fn: (client: pg.PoolClient) => Promise<T>, mode: ApplyMode = 'exclusive'): Promise<T> {
  return inTransaction(orm, async (client) => {
    await takeApplyLock(client, mode);
    return fn(client);
  });
}

/** Takes the apply lock in the client's current transaction (for callers that run their own). */
export async function takeApplyLock(client: pg.ClientBase, mode: ApplyMode = 'exclusive'): Promise<void> {
  await lockTransaction(client, 'apply', mode);
}

const TRANSIENT_SQLSTATES = new Set([
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '55P03', // lock_not_available
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '53300', // too_many_connections
]);
const TRANSIENT_NODE_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND']);

/** True for errors worth retrying with backoff: lost connections, deadlocks, serialization failures. */
export function isTransientDbError(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code;
  if (code && (TRANSIENT_SQLSTATES.has(code) || code.startsWith('08') || TRANSIENT_NODE_CODES.has(code))) return true;
  const message = (err as Error | null)?.message ?? '';
  // The last: pg's answer to a query on a client whose connection has already broken.
  return /Connection terminated|connection timeout|Knex: Timeout acquiring a connection|encountered a connection error and is not queryable/i.test(
    message,
  );
}
