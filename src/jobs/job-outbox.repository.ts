import type pg from 'pg';
import { query, type Orm } from '../db/orm.js';
import type { JobStatus, JobType } from './job.model.js';

/**
 * The jobs as an outbox for BullMQ (relay.ts, reconciler.ts): the API only commits job rows; a
 * relay hands each to BullMQ and stamps `enqueued_at` in the transaction that locked it.
 */

export type OutboxJob = { id: string; type: JobType; status: JobStatus };

/** The oldest jobs not handed to BullMQ yet, at most `limit`, locked (SKIP LOCKED: relays in several processes share them). */
export async function lockJobsToHandOver(client: pg.ClientBase, limit: number): Promise<OutboxJob[]> {
  const { rows } = await client.query<OutboxJob>(
    `select id, type, status from jobs where enqueued_at is null order by seq limit $1 for update skip locked`,
    [limit],
  );
  return rows;
}

/** Stamps jobs as handed over (in the transaction that locked them). */
export async function markHandedOver(client: pg.ClientBase, ids: string[]): Promise<void> {
  await client.query(`update jobs set enqueued_at = now() where id = any($1::uuid[])`, [ids]);
}

/** Unfinished jobs handed over more than `minAgeSeconds` ago, in acceptance order: BullMQ should still hold each. */
export async function handedOverUnfinished(client: pg.ClientBase, minAgeSeconds: number): Promise<Array<{ id: string; type: JobType }>> {
  const { rows } = await client.query<{ id: string; type: JobType }>(
    `select id, type from jobs where status in ('queued', 'running') and enqueued_at is not null
       and enqueued_at < now() - make_interval(secs => $1) order by seq`,
    [minAgeSeconds],
  );
  return rows;
}

/** The statuses of the jobs a wake-up names; an id no longer in PostgreSQL (deleted by retention, or a stale wake-up) is left out. */
export async function wokenJobStatuses(orm: Orm, ids: string[]): Promise<Map<string, JobStatus>> {
  const rows = await query<{ id: string; status: JobStatus }>(orm, `select id, status from jobs where id = any($1::uuid[])`, [ids]);
  return new Map(rows.map((r) => [r.id, r.status]));
}
