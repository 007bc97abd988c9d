import { createHash, randomUUID } from 'node:crypto';
import type { Deps } from '../process/deps.js';
import { withPgClient } from '../db/orm.js';
import { inTransaction } from '../db/transaction.js';
import { AppError } from '../http/errors.js';
import { createBatcher } from '../async/batcher.js';
import { insertJob, insertJobs } from './job.repository.js';

/** The answer to an accepted write (CONTRACT §4). */
export type Accepted = { status: 202; body: { job_id: string; status_url: string } };

/** An Idempotency-Key and the fingerprint of the request that carried it. */
export type Idempotency = { key: string; fingerprint: string };

export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

/** Advisory lock class of keys being accepted (the second half is hashtext(key)). */
const IDEMPOTENCY_LOCK_CLASS = 727_004;

const stillBeingAccepted = () => new AppError('conflict', 'a request with this Idempotency-Key is still being accepted');

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

export const statusUrl = (jobId: string) => `/api/v1/jobs/${jobId}`;

/**
 * Durably accepts a command job: the job row (and the idempotency key with its answer) commit
 * before the 202. That is all the API does: the commit wakes a relay in the workers, which hands
 * the job to BullMQ (relay.ts). Requests without a key are group-committed (see acceptorFor).
 * A key seen before answers the first answer again, or 422 when the request differs.
 */
export async function acceptJob(
  deps: AcceptDeps,
  job: { type: 'command' | 'batch'; payload: unknown; total: number | null },
  idempotency: Idempotency | null,
): Promise<Accepted> {
  const id = randomUUID();
  const accepted: Accepted = { status: 202, body: { job_id: id, status_url: statusUrl(id) } };
  if (!idempotency) {
    // The common case: group-committed with the other requests arriving at the same moment.
    await acceptorFor(deps)({ id, ...job });
    deps.metrics.jobsAccepted.inc({ type: job.type });
    return accepted;
  }
  const replay = await inTransaction(deps.orm, async (client) => {
    // Hold the key while accepting: a repeat arriving meanwhile gets 409 instead of waiting.
    const { rows } = await client.query<{ ok: boolean }>('select pg_try_advisory_xact_lock($1, hashtext($2)) as ok', [
      IDEMPOTENCY_LOCK_CLASS,
      idempotency.key,
    ]);
    if (!rows[0]?.ok) throw stillBeingAccepted();
    const claimed = await client.query(`insert into idempotency_keys (key, fingerprint) values ($1, $2) on conflict (key) do nothing`, [
      idempotency.key,
      idempotency.fingerprint,
    ]);
    if (claimed.rowCount === 0) return replayKey(client, idempotency);
    await insertJob(client, { id, ...job });
    await client.query(`update idempotency_keys set job_id = $2, response_status = $3, response_body = $4 where key = $1`, [
      idempotency.key,
      id,
      accepted.status,
      JSON.stringify(accepted.body),
    ]);
    return null;
  });
  if (replay) return replay;
  deps.metrics.jobsAccepted.inc({ type: job.type });
  return accepted;
}

type AcceptDeps = Pick<Deps, 'orm' | 'metrics'>;
type NewCommandJob = { id: string; type: 'command' | 'batch'; payload: unknown; total: number | null };

const acceptors = new WeakMap<AcceptDeps, (job: NewCommandJob) => Promise<void>>();

/** One group-commit batcher per process wiring: the requests arriving together share one INSERT. */
function acceptorFor(deps: AcceptDeps) {
  let acceptor = acceptors.get(deps);
  if (!acceptor) {
    acceptor = createBatcher<NewCommandJob>((jobs) => withPgClient(deps.orm, (client) => insertJobs(client, jobs)), {
      maxInFlight: 4,
      maxBatch: 500,
    });
    acceptors.set(deps, acceptor);
  }
  return acceptor;
}

/** The answer stored under a key: 409 while still being accepted, 422 for another request, else the same answer. */
export async function replayKey(
  client: { query: (q: string, p: unknown[]) => Promise<{ rows: Array<Record<string, unknown>> }> },
  idempotency: Idempotency,
): Promise<Accepted> {
  const { rows } = await client.query(
    `select fingerprint, response_status, response_body from idempotency_keys where key = $1`,
    [idempotency.key],
  );
  const row = rows[0] as { fingerprint: string; response_status: number | null; response_body: Accepted['body'] | null } | undefined;
  if (!row) throw new AppError('conflict', 'the request with this Idempotency-Key was abandoned; retry');
  // Still being accepted (e.g. an upload under way): its fingerprint is not known yet.
  if (row.response_status === null || !row.response_body) throw stillBeingAccepted();
  if (row.fingerprint !== idempotency.fingerprint) {
    throw new AppError('unprocessable', 'this Idempotency-Key was used for a different request');
  }
  return { status: 202, body: row.response_body };
}
