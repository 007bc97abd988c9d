import { createMiddleware } from 'hono/factory';
import { AppError } from '../../errors.js';
import type { AppEnv } from '../../context.js';

const SAFE_METHODS = new Set(['GET', 'HEAD']);
const JSON_TYPE = /^application\/json\s*(;|$)/i;

/**
 * Refuses writes (anything but GET and HEAD) that a browser may have sent on another site's
 * behalf: credentials a browser resends by itself, such as HTTP Basic, say nothing about which
 * page made the request. A write passes only when both hold:
 * - it comes from this origin: `Sec-Fetch-Site` (set by the browser, never by a page) says
 *   `same-origin`; from a browser too old to send it, `Origin` names this host. Clients that are
 *   not browsers send neither and pass;
 * - its body, if it has one, is declared `application/json`: another site's page can send a
 *   form, text/plain or untyped body without asking, but JSON only after a CORS preflight, which
 *   this service never grants.
 * Anything else: 403 `forbidden` (the origin check follows Go's `http.CrossOriginProtection`).
 */
export function sameOriginWrites() {
  return createMiddleware<AppEnv>(async function sameOriginWritesMiddleware(c, next) {
    if (SAFE_METHODS.has(c.req.method)) return next();

    const site = c.req.header('sec-fetch-site');
    const origin = c.req.header('origin');
    // Sec-Fetch-Site, when sent, decides alone: the browser computes it, so it stays right behind a
    // proxy that rewrites Host (which would make even this service's own Origin look foreign).
    if (site !== undefined ? site !== 'same-origin' : origin !== undefined && !isHostOf(origin, c.req.url)) {
      throw new AppError('forbidden', "writes must come from this service's own pages (same origin)");
    }

    const type = c.req.header('content-type');
    if (type !== undefined ? !JSON_TYPE.test(type) : hasBody(c.req.raw.headers)) {
      throw new AppError('forbidden', 'a request body must be sent as application/json');
    }
    await next();
  });
}

/**
 * Whether `origin` names the host the request was sent to. Host only: behind a proxy that ends
 * TLS the browser's origin is https:// while the service sees http://. `Origin: null` is no host.
 */
function isHostOf(origin: string, requestUrl: string): boolean {
  return URL.canParse(origin) && new URL(origin).host === new URL(requestUrl).host;
}

/** HTTP/1.1 framing: a request has a body exactly when it says how long it is or how it is chunked. */
function hasBody(headers: Headers): boolean {
  return headers.has('transfer-encoding') || Number(headers.get('content-length') ?? 0) > 0;
}
