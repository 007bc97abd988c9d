import { writeFile } from 'node:fs/promises';
import { query } from '../db/orm.js';
import type { Deps } from './deps.js';
import type { Logger } from './logger.js';
import { withTimeout } from '../async/timeout.js';

const CHECK_TIMEOUT_MS = 2_000;

type Check = { ok: true } | { ok: false; error: string };
/** One check per store the deployment uses: `postgres`, and `redis` when the queues are on Redis. */
export type Readiness = { ready: boolean; checks: { postgres: Check; redis?: Check } };

/**
 * Whether what the deployment uses answers, each within 2 s: PostgreSQL, and the queue backend
 * (Redis; or on the PostgreSQL backend, BullMQ's schema in the same database, a check named
 * `postgres` too). For `/readyz`, and the worker's heartbeat.
 */
export async function checkReadiness(deps: Pick<Deps, 'orm' | 'queueBackend'>): Promise<Readiness> {
  const check = async (what: string, probe: () => Promise<unknown>): Promise<Check> => {
    try {
      await withTimeout(probe(), CHECK_TIMEOUT_MS, what);
      return { ok: true };
    } catch (err) {
      return { ok: false, error: (err as Error).message };
    }
  };
  const backend = deps.queueBackend;
  if (backend.kind === 'postgres') {
    const postgres = await check('postgres', async () => {
      await query(deps.orm, 'select 1');
      await backend.ping();
    });
    return { ready: postgres.ok, checks: { postgres } };
  }
  const [postgres, redis] = await Promise.all([check('postgres', () => query(deps.orm, 'select 1')), check('redis', () => backend.ping())]);
  return { ready: postgres.ok && redis.ok, checks: { postgres, redis } };
}

/** How often a worker writes its heartbeat, and how old one may be before the worker counts as unhealthy. */
export const HEARTBEAT_EVERY_MS = 10_000;
export const HEARTBEAT_MAX_AGE_MS = 3 * HEARTBEAT_EVERY_MS;

/**
 * A worker has no HTTP port to probe: every HEARTBEAT_EVERY_MS, while what it uses answers
 * (checkReadiness), it rewrites `file` (its modification time is the heartbeat). A container health check
 * (`node dist/src/cli/heartbeat-check.js FILE`) then fails when the worker's process is blocked or
 * it is cut off from PostgreSQL or Redis (not when one of its loops alone is stuck).
 */
export function startHeartbeat(deps: Pick<Deps, 'orm' | 'queueBackend'>, file: string, logger: Logger, everyMs = HEARTBEAT_EVERY_MS): () => void {
  let wasReady = true;
  const beat = async () => {
    const { ready, checks } = await checkReadiness(deps);
    if (ready) await writeFile(file, `${new Date().toISOString()}\n`).catch((err) => logger.warn({ err, file }, 'cannot write the heartbeat file'));
    else if (wasReady) logger.warn({ checks }, 'not ready: heartbeat withheld');
    wasReady = ready;
  };
  void beat();
  const timer = setInterval(() => void beat(), everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
