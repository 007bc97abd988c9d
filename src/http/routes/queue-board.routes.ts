import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import type { Queue } from 'bullmq';
import { HonoAdapter } from '@bull-board/hono';
import { serveStatic } from '@hono/node-server/serve-static';
import { Hono } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { Deps } from '../../process/deps.js';
import { AppError, errorBody } from '../errors.js';
import type { AppEnv } from '../context.js';
import { bearerAuth } from '../middleware/auth/index.js';
import { sameOriginWrites } from '../middleware/same-origin-writes/index.js';

/** Where the board lives, outside /api/v1. */
export const QUEUE_BOARD_PATH = '/admin/queues';

/**
 * Bull Board over both queues at `/admin/queues` (on either queue backend): the page, its static assets and its JSON API
 * (which can retry, clean and pause), for the admin token only. The board is a browser page whose
 * own requests carry no bearer token, so it also takes HTTP Basic credentials whose password is
 * the token: the browser asks once and sends them with every request of the board. Because the
 * browser would send them for any site's page too, writes must come from the board itself.
 */
export function queueBoardRoutes(deps: Pick<Deps, 'queues' | 'config'>) {
  const board = new HonoAdapter(serveStatic);
  board.setBasePath(QUEUE_BOARD_PATH);
  createBullBoard({
    // Bull Board 9 works on any BullMQ 6 backend (it goes through the queue's own backend); its types name Redis's.
    queues: [new BullMQAdapter(deps.queues.commands as unknown as Queue), new BullMQAdapter(deps.queues.imports as unknown as Queue)],
    serverAdapter: board,
    options: { uiConfig: { boardTitle: 'Enrollment queues' } },
  });
  return new Hono<AppEnv>()
    .use(noFraming())
    .use(sameOriginWrites())
    .use(adminOnly({ admin: deps.config.adminToken, read: deps.config.readToken }))
    .use(withoutExternalLinks())
    .route('/', board.registerPlugin());
}

const NO_FRAMING = { 'X-Frame-Options': 'DENY', 'Content-Security-Policy': "frame-ancestors 'none'" } as const;

/**
 * No page may frame the board, not even its own origin's: a framing page could lead a user's click
 * onto the board's buttons, which the same-origin check of its writes would then let through
 * (clickjacking). On every answer, errors included; a policy Bull Board sets itself is kept.
 */
function noFraming() {
  return createMiddleware<AppEnv>(async function noFramingMiddleware(c, next) {
    // Before next(): answers built later on this context (c.json in the error handler) carry them too.
    for (const [name, value] of Object.entries(NO_FRAMING)) c.header(name, value);
    await next();
    c.res.headers.set('X-Frame-Options', NO_FRAMING['X-Frame-Options']);
    const policy = c.res.headers.get('Content-Security-Policy');
    if (!policy?.includes('frame-ancestors')) {
      c.res.headers.set('Content-Security-Policy', policy ? `${policy}; frame-ancestors 'none'` : NO_FRAMING['Content-Security-Policy']);
    }
  });
}

/** `<link>` elements (stylesheets, preconnects) whose href is another host: `https://…` or `//…`. */
const EXTERNAL_LINK = /<link\b[^>]*\bhref\s*=\s*["']?(?:https?:)?\/\/[^>]*>\s*/gi;

/**
 * Takes the links to other hosts out of the board's page: Bull Board's template loads IBM Plex
 * from Google Fonts, and the service runs on closed networks (the board's CSS falls back to system
 * fonts). Filtering the page Bull Board rendered, rather than rendering a copy of its template,
 * keeps the hashed asset names of whichever version is installed and needs no file on disk.
 */
function withoutExternalLinks() {
  return createMiddleware<AppEnv>(async function withoutExternalLinksMiddleware(c, next) {
    await next();
    if (!c.res.headers.get('content-type')?.startsWith('text/html')) return;
    c.res = new Response((await c.res.text()).replace(EXTERNAL_LINK, ''), c.res);
  });
}

const BASIC_CHALLENGE = 'Basic realm="Enrollment queues", charset="UTF-8"';

/** bearerAuth (Basic taken as a bearer token), then admin only: 401 asks for Basic, 403 for the read token. */
function adminOnly(tokens: { admin: string; read: string }) {
  const bearer = bearerAuth(tokens);
  return createMiddleware<AppEnv>(async function adminOnlyMiddleware(c, next) {
    const basic = /^Basic\s+(\S+)\s*$/i.exec(c.req.header('authorization') ?? '');
    if (basic?.[1]) {
      const password = Buffer.from(basic[1], 'base64').toString('utf8').split(':').slice(1).join(':');
      c.req.raw.headers.set('authorization', `Bearer ${password}`);
    }
    let authenticated = false;
    try {
      await bearer(c, async () => {
        authenticated = true;
        if (c.var.role !== 'admin') throw new AppError('forbidden', 'the queue board needs the admin token');
        await next();
      });
    } catch (err) {
      // A browser shows a login prompt for a Basic challenge (a Bearer one it ignores).
      if (authenticated || !(err instanceof AppError) || err.code !== 'unauthorized') throw err;
      return c.json(errorBody('unauthorized', err.message), 401, { 'WWW-Authenticate': BASIC_CHALLENGE });
    }
  });
}
