import { Hono } from 'hono';
import type { Deps } from '../../deps.js';
import { withTimeout } from '../../redis.js';
import type { AppEnv } from '../context.js';

const CHECK_TIMEOUT_MS = 2_000;

/** `/healthz` (the process answers), `/readyz` (PostgreSQL and Redis answer), `/metrics`. No token. */
export function healthRoutes(deps: Pick<Deps, 'orm' | 'redis' | 'metrics'>) {
  const check = async (what: string, probe: () => Promise<unknown>) => {
    try {
      await withTimeout(probe(), CHECK_TIMEOUT_MS, what);
      return { ok: true } as const;
    } catch (err) {
      return { ok: false, error: (err as Error).message } as const;
    }
  };

  return new Hono<AppEnv>()
    .get('/healthz', (c) => c.json({ status: 'ok' }))
    .get('/readyz', async (c) => {
      const [postgres, redis] = await Promise.all([
        check('postgres', () => deps.orm.em.getConnection().execute('select 1')),
        check('redis', () => deps.redis.ping()),
      ]);
      const ready = postgres.ok && redis.ok;
      return c.json({ status: ready ? 'ready' : 'unavailable', checks: { postgres, redis } }, ready ? 200 : 503);
    })
    .get('/metrics', async (c) => {
      c.header('Content-Type', deps.metrics.registry.contentType);
      return c.body(await deps.metrics.registry.metrics());
    });
}
