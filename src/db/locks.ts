import type pg from 'pg';

/**
 * Every PostgreSQL advisory lock of the service, each with a key of its own (one registry, so
 * that no key can serve two locks).
 */
export const LOCKS = {
  /** One process migrates at a time (session lock). */
  migration: 727_001,
  /** Every write to students, courses and course_enrollments (transaction lock, apply-transaction.ts): an import's parts share it, every other write holds it alone. */
  apply: 727_002,
  /** One reconciliation pass at a time, across all workers (session lock). */
  reconcile: 727_003,
  /** One import at a time, across all workers (session lock, held by the worker running it). */
  imports: 727_004,
} as const;

export type LockName = keyof typeof LOCKS;

/** Waits for a session lock. */
export async function lockSession(client: pg.ClientBase, name: LockName): Promise<void> {
  await client.query('select pg_advisory_lock($1)', [LOCKS[name]]);
}

/** Takes a session lock if it is free; true when taken. */
export async function tryLockSession(client: pg.ClientBase, name: LockName): Promise<boolean> {
  const { rows } = await client.query<{ ok: boolean }>('select pg_try_advisory_lock($1) as ok', [LOCKS[name]]);
  return rows[0]?.ok === true;
}

/** Releases a session lock this connection holds. */
export async function unlockSession(client: pg.ClientBase, name: LockName): Promise<void> {
  await client.query('select pg_advisory_unlock($1)', [LOCKS[name]]);
}

/**
 * Waits for a lock held until the client's current transaction ends: `exclusive`, or `shared`
 * with other shared holders (PostgreSQL queues a new shared request behind a waiting exclusive one).
 */
export async function lockTransaction(client: pg.ClientBase, name: LockName, mode: 'exclusive' | 'shared' = 'exclusive'): Promise<void> {
  await client.query(mode === 'shared' ? 'select pg_advisory_xact_lock_shared($1)' : 'select pg_advisory_xact_lock($1)', [LOCKS[name]]);
}
