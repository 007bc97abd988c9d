import type pg from 'pg';

/** Rows deleted per statement: no long lock on a big table. */
const DELETE_CHUNK = 5_000;

/** Deletes finished jobs (with their row errors and uploads) older than `hours`; returns how many. */
export const deleteExpiredJobs = (client: pg.ClientBase, hours: number): Promise<number> =>
  deleteInChunks(client, `delete from jobs where ctid in (select ctid from jobs where finished_at < now() - make_interval(hours => $1) limit ${DELETE_CHUNK})`, hours);

/** Deletes idempotency keys older than `hours`; returns how many. */
export const deleteExpiredKeys = (client: pg.ClientBase, hours: number): Promise<number> =>
  deleteInChunks(client, `delete from idempotency_keys where ctid in (select ctid from idempotency_keys where created_at < now() - make_interval(hours => $1) limit ${DELETE_CHUNK})`, hours);

/** Runs a chunked delete until a chunk comes back short, each chunk its own statement (and transaction). */
async function deleteInChunks(client: pg.ClientBase, sql: string, hours: number): Promise<number> {
  let total = 0;
  for (;;) {
    const { rowCount } = await client.query(sql, [hours]);
    total += rowCount ?? 0;
    if ((rowCount ?? 0) < DELETE_CHUNK) return total;
  }
}
