import type pg from 'pg';

/**
 * Runs `run`'s statements, which update a batch of rows found by key (a part's flips of existing
 * enrollments, a revert chunk's restores), as nested loops over the keys' indexes. Left to itself
 * PostgreSQL hashes the whole table for a few thousand keys when its statistics are stale (a
 * table just bulk-loaded) or when it overrates random reads: a sequential scan of every
 * enrollment per batch, which made a fresh million-row import spend 14 s and its revert 48 s on
 * updates that change a few thousand rows each (2026-12-01, auto_explain). A probe per key costs
 * microseconds whatever the table's size. The settings are the transaction's and are put back.
 */
export async function byKeyProbes<T>(client: pg.ClientBase, run: () => Promise<T>): Promise<T> {
  await client.query('set local enable_hashjoin = off; set local enable_mergejoin = off');
  const result = await run();
  await client.query('set local enable_hashjoin to default; set local enable_mergejoin to default');
  return result;
}
