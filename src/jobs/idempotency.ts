import { createHash } from 'node:crypto';
import type pg from 'pg';
import { inTransaction } from '../db/transaction.js';
import type { Orm } from '../db/orm.js';
import { AppError } from '../http/errors.js';
import { newAccepted, type Accepted } from './accepted.js';
import { claimKey, finishKey, releaseKey, touchKey, type KeyClaim } from './idempotency.repository.js';

/** An Idempotency-Key and the fingerprint of the request that carried it. */
export type Idempotency = { key: string; fingerprint: string };

export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;
/** How often a request still being accepted (a long upload) touches its pending key. */
export const KEY_HEARTBEAT_MS = 10_000;

/** A stable fingerprint of a request: method, path and a canonical body. */
export function fingerprintOf(method: string, path: string, body: unknown): string {
  return createHash('sha256').update(`${method} ${path}\n${canonicalJson(body)}`).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The first answer again for the same request; 422 for a different one. */
export function replay(claim: Extract<KeyClaim, { kind: 'answered' }>, fingerprint: string): Accepted {
  if (claim.fingerprint !== fingerprint) throw new AppError('unprocessable', 'this Idempotency-Key was used for a different request');
  return claim.accepted;
}

/**
 * Accepts a write that carries an Idempotency-Key, once. The key is claimed pending (a repeat
 * meanwhile gets 409), `store` stores the job in a transaction in which the key is finished with
 * the request's fingerprint and the answer, so both commit together. The fingerprint may be known
 * only once `store` has read the request (an upload's hash): `store` returns it. A repeat of a
 * finished key gets the stored answer, once `sameRequest` has read the request's fingerprint.
 */
export async function acceptOnce(
  orm: Orm,
  key: string,
  steps: {
    /** The fingerprint of a repeat (reading the request if need be). */
    sameRequest(): Promise<string>;
    /** Reads the request and stores its job in `client`'s transaction; answers the fingerprint. */
    store(client: pg.PoolClient, accepted: Accepted): Promise<string>;
    /** Reads the request before the transaction (an upload streaming into PostgreSQL); kept alive meanwhile. */
    prepare?(): Promise<void>;
    /** The answer, when the write is about an existing job (an approval); a new job's by default. */
    accepted?: Accepted;
  },
): Promise<Accepted> {
  const claim = await claimKey(orm, key);
  if (claim.kind === 'answered') return replay(claim, await steps.sameRequest());
  const heartbeat = setInterval(() => void touchKey(orm, claim).catch(() => {}), KEY_HEARTBEAT_MS);
  try {
    await steps.prepare?.();
    const accepted = steps.accepted ?? newAccepted();
    return await inTransaction(orm, async (client) => {
      await finishKey(client, claim, await steps.store(client, accepted), accepted);
      return accepted;
    });
  } catch (err) {
    await releaseKey(orm, claim).catch(() => {});
    throw err;
  } finally {
    clearInterval(heartbeat);
  }
}
