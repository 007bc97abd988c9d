import { Hono } from 'hono';
import type { Deps } from '../../process/deps.js';
import { checkReadiness } from '../../process/readiness.js';
import type { AppEnv } from '../context.js';

/** `/healthz` (the process answers), `/readyz` (PostgreSQL and the queue backend answer), `/metrics`. No token. */
export function healthRoutes(deps: Pick<Deps, 'orm' | 'queueBackend' | 'metrics'>) {
  return new Hono<AppEnv>()
    .get('/healthz', (c) => c.json({ status: 'ok' }))
    .get('/readyz', async (c) => {
      const { ready, checks } = await checkReadiness(deps);
      return c.json({ status: ready ? 'ready' : 'unavailable', checks }, ready ? 200 : 503);
    })
    .get('/metrics', async (c) => {
      c.header('Content-Type', deps.metrics.registry.contentType);
      return c.body(await deps.metrics.registry.metrics());
    });
}
