import { writeFile } from 'node:fs/promises';
import { query } from '../db/orm.js';
import type { Deps } from './deps.js';
import type { Logger } from './logger.js';
import { withTimeout } from '../async/timeout.js';
import { redisLost } from '../queues/redis.js';

const CHECK_TIMEOUT_MS = 2_000;

type Check = { ok: true } | { ok: false; error: string };
export type Readiness = { ready: boolean; checks: { postgres: Check; redis: Check } };

/** Whether PostgreSQL and Redis both answer, each within 2 s: `/readyz`, and the worker's heartbeat. */
export async function checkReadiness(deps: Pick<Deps, 'orm' | 'redis'>): Promise<Readiness> {
  const check = async (what: string, probe: () => Promise<unknown>): Promise<Check> => {
    try {
      await withTimeout(probe(), CHECK_TIMEOUT_MS, what);
      return { ok: true };
    } catch (err) {
      return { ok: false, error: (err as Error).message };
    }
  };
  const [postgres, redis] = await Promise.all([
    check('postgres', () => query(deps.orm, 'select 1')),
    // Not pinged once the connection is lost (a worker's would queue the PING until Redis is back);
    // while it is first connecting, the PING waits for it, within the timeout.
    check('redis', () => (redisLost(deps.redis) ? Promise.reject(new Error(`redis is ${deps.redis.status}`)) : deps.redis.ping())),
  ]);
  return { ready: postgres.ok && redis.ok, checks: { postgres, redis } };
}

/** How often a worker writes its heartbeat, and how old one may be before the worker counts as unhealthy. */
export const HEARTBEAT_EVERY_MS = 10_000;
export const HEARTBEAT_MAX_AGE_MS = 3 * HEARTBEAT_EVERY_MS;

/**
 * A worker has no HTTP port to probe: every HEARTBEAT_EVERY_MS, while PostgreSQL and Redis both
 * answer, it rewrites `file` (its modification time is the heartbeat). A container health check
 * (`node dist/src/cli/heartbeat-check.js FILE`) then fails when the worker's process is blocked or
 * it is cut off from PostgreSQL or Redis (not when one of its loops alone is stuck).
 */
export function startHeartbeat(deps: Pick<Deps, 'orm' | 'redis'>, file: string, logger: Logger, everyMs = HEARTBEAT_EVERY_MS): () => void {
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
