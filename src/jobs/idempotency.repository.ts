import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { withPgClient, type Orm } from '../db/orm.js';
import { AppError } from '../http/errors.js';
import type { Accepted } from './accepted.js';

/**
 * The Idempotency-Key table (CONTRACT §4). A key is first inserted *pending* under a random owner
 * token (a concurrent repeat sees it and gets 409), then finished with the request's fingerprint
 * and answer in the transaction that stores the job. A write that fails deletes its pending key; a
 * pending key whose owner stopped touching it (an API that died mid-upload) may be taken over.
 */

/** A pending key untouched for this long was abandoned. */
export const ABANDONED_KEY_SECONDS = 60;

const PENDING_PREFIX = 'pending:';

export type KeyClaim =
  /** We hold the key, pending, under `token`. */
  | { kind: 'owned'; key: string; token: string }
  /** The key was finished before: compare fingerprints, then answer the same again. */
  | { kind: 'answered'; key: string; fingerprint: string; accepted: Accepted };

export const stillBeingAccepted = () => new AppError('conflict', 'a request with this Idempotency-Key is still being accepted');

/** Inserts the key as pending (or takes over an abandoned one); otherwise reports what it holds (409 while pending). */
export async function claimKey(orm: Orm, key: string): Promise<KeyClaim> {
  const token = `${PENDING_PREFIX}${randomUUID()}`;
  return withPgClient(orm, async (client) => {
    const claimed = await client.query(
      `insert into idempotency_keys (key, fingerprint, touched_at) values ($1, $2, now())
       on conflict (key) do update set fingerprint = excluded.fingerprint, touched_at = now(), created_at = now()
        where idempotency_keys.response_status is null
          and idempotency_keys.touched_at < now() - make_interval(secs => $3)`,
      [key, token, ABANDONED_KEY_SECONDS],
    );
    if (claimed.rowCount === 1) return { kind: 'owned', key, token };
    const { rows } = await client.query<{ fingerprint: string; response_status: number | null; response_body: Accepted['body'] | null }>(
      `select fingerprint, response_status, response_body from idempotency_keys where key = $1`,
      [key],
    );
    const row = rows[0];
    if (!row) throw new AppError('conflict', 'the request with this Idempotency-Key was abandoned; retry');
    if (row.response_status === null || !row.response_body) throw stillBeingAccepted();
    return { kind: 'answered', key, fingerprint: row.fingerprint, accepted: { status: 202, body: row.response_body } };
  });
}

/** Keeps a pending key alive while its request is still being accepted (a long upload). */
export async function touchKey(orm: Orm, claim: { key: string; token: string }): Promise<void> {
  await withPgClient(orm, (client) =>
    client.query(`update idempotency_keys set touched_at = now() where key = $1 and fingerprint = $2`, [claim.key, claim.token]),
  );
}

/** Finishes a pending key with its fingerprint and answer, inside the transaction that stores the job. */
export async function finishKey(
  client: pg.ClientBase,
  claim: { key: string; token: string },
  fingerprint: string,
  accepted: Accepted,
): Promise<void> {
  const { rowCount } = await client.query(
    `update idempotency_keys set fingerprint = $3, job_id = $4, response_status = $5, response_body = $6, touched_at = null
      where key = $1 and fingerprint = $2`,
    [claim.key, claim.token, fingerprint, accepted.body.job_id, accepted.status, JSON.stringify(accepted.body)],
  );
  // Our heartbeat stopped long enough for a repeat to take the key over: that request wins.
  if (rowCount !== 1) throw new AppError('conflict', 'this Idempotency-Key was taken over by another request; retry');
}

/** Deletes a pending key we hold (the write failed, so a retry must be free to use the key). */
export async function releaseKey(orm: Orm, claim: { key: string; token: string }): Promise<void> {
  await withPgClient(orm, (client) =>
    client.query(`delete from idempotency_keys where key = $1 and fingerprint = $2`, [claim.key, claim.token]),
  );
}
