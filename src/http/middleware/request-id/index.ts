import { randomUUID } from 'node:crypto';
import { createMiddleware } from 'hono/factory';
import type { Logger } from '../../../process/logger.js';
import type { AppEnv } from '../../context.js';

const SAFE_ID = /^[\w.:-]{1,128}$/;

/**
 * Gives every request an id (the caller's `X-Request-Id` when it is sane, else a new UUID),
 * echoes it on the response and binds it to the request's logger.
 */
export function requestId(logger: Logger) {
  return createMiddleware<AppEnv>(async function requestIdMiddleware(c, next) {
    const given = c.req.header('x-request-id');
    const id = given && SAFE_ID.test(given) ? given : randomUUID();
    c.set('requestId', id);
    c.set('log', logger.child({ request_id: id }));
    c.header('X-Request-Id', id);
    await next();
  });
}
