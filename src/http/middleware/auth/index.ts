import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { createMiddleware } from 'hono/factory';
import { DEV_TOKENS } from '../../../process/config.js';
import { AppError } from '../../errors.js';
import type { AppEnv } from '../../context.js';

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

// Hashing first makes the comparison constant-time whatever the lengths.
const digest = (s: string) => createHash('sha256').update(s).digest();
const same = (a: Buffer, b: Buffer) => timingSafeEqual(a, b);

/**
 * Bearer-token auth of CONTRACT §4: the admin token may do everything, the read token only
 * reads. Missing or unknown token: 401; read token on a write: 403. A development token (the
 * fallback of config.ts when no token is set) is accepted only from a loopback peer.
 */
export function bearerAuth(tokens: { admin: string; read: string }) {
  const admin = digest(tokens.admin);
  const read = digest(tokens.read);
  const devToken = { admin: tokens.admin === DEV_TOKENS.admin, read: tokens.read === DEV_TOKENS.read };
  return createMiddleware<AppEnv>(async function bearerAuthMiddleware(c, next) {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match?.[1]) throw new AppError('unauthorized', 'missing bearer token');
    const given = digest(match[1]);
    const role = same(given, admin) ? 'admin' : same(given, read) ? 'read' : undefined;
    if (!role) throw new AppError('unauthorized', 'unknown token');
    if (devToken[role] && !fromLoopback(c.env)) {
      throw new AppError('unauthorized', 'the development tokens are accepted from loopback only: set ADMIN_TOKEN and READ_TOKEN');
    }
    if (role === 'read' && !READ_METHODS.has(c.req.method)) {
      throw new AppError('forbidden', 'the read token may only read (GET)');
    }
    c.set('role', role);
    await next();
  });
}

/**
 * Whether the request came over a connection from this machine: the peer address of the socket
 * (@hono/node-server puts the request on `c.env.incoming`), never a header a client can write.
 * No connection at all (an in-process `app.request`) is not loopback.
 */
function fromLoopback(env: unknown): boolean {
  const address = (env as { incoming?: IncomingMessage } | undefined)?.incoming?.socket?.remoteAddress;
  if (!address) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return v4 === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}
