import { createHash, timingSafeEqual } from 'node:crypto';
import { createMiddleware } from 'hono/factory';
import { AppError } from '../../errors.js';
import type { AppEnv } from '../../context.js';

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

// Hashing first makes the comparison constant-time whatever the lengths.
const digest = (s: string) => createHash('sha256').update(s).digest();
const same = (a: Buffer, b: Buffer) => timingSafeEqual(a, b);

/**
 * Bearer-token auth of CONTRACT §4: the admin token may do everything, the read token only
 * reads. Missing or unknown token: 401; read token on a write: 403.
 */
export function bearerAuth(tokens: { admin: string; read: string }) {
  const admin = digest(tokens.admin);
  const read = digest(tokens.read);
  return createMiddleware<AppEnv>(async function bearerAuthMiddleware(c, next) {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match?.[1]) throw new AppError('unauthorized', 'missing bearer token');
    const given = digest(match[1]);
    const role = same(given, admin) ? 'admin' : same(given, read) ? 'read' : undefined;
    if (!role) throw new AppError('unauthorized', 'unknown token');
    if (role === 'read' && !READ_METHODS.has(c.req.method)) {
      throw new AppError('forbidden', 'the read token may only read (GET)');
    }
    c.set('role', role);
    await next();
  });
}
