import { createMiddleware } from 'hono/factory';
import { routePath } from 'hono/route';
import type { AppEnv } from '../../context.js';

/** Observes every finished request: duration in ms, by method, matched route and status. */
export type RequestObserver = (method: string, route: string, status: number, ms: number) => void;

/** One log line per request, after the response, with its status and duration. */
export function requestLog(observe?: RequestObserver) {
  return createMiddleware<AppEnv>(async function requestLogMiddleware(c, next) {
    const start = performance.now();
    await next();
    const ms = performance.now() - start;
    const status = c.res.status;
    const route = routePath(c, -1) ?? 'unmatched';
    observe?.(c.req.method, route, status, ms);
    const line = { method: c.req.method, path: c.req.path, status, ms: Math.round(ms * 10) / 10, job_id: c.var.jobId };
    if (status >= 500) c.var.log.error(line, 'request failed');
    else c.var.log.info(line, 'request');
  });
}
