import { serve, type ServerType } from '@hono/node-server';
import type { Server } from 'node:http';
import type { Deps } from './deps.js';
import { createApp } from '../http/app.js';

/** Open requests get this long to finish on shutdown; then long-lived ones (event streams, downloads) are cut. */
const CLOSE_GRACE_MS = 5_000;

/**
 * Node's HTTP server limits for a service that takes gigabyte uploads over slow links:
 * - no wall-clock cap on a request (Node's `requestTimeout` of 300 s cut honest uploads);
 * - a connection that sends or takes no byte for `httpIdleTimeoutMs` is closed (a stalled upload
 *   is deleted; a download nobody reads ends);
 * - the headers must be in within the same time (a slow-loris client trickling header bytes);
 * - at most `httpMaxConnections` connections at once, so trickling bodies cannot exhaust the process.
 */
function serverLimits(config: Deps['config']) {
  const idle = config.httpIdleTimeoutMs;
  return {
    serverOptions: {
      requestTimeout: 0,
      headersTimeout: idle,
      // How often Node checks headersTimeout: often enough that the bound is near `idle`.
      connectionsCheckingInterval: Math.max(50, Math.min(30_000, Math.floor(idle / 4))),
    },
    apply(server: Server) {
      server.setTimeout(idle);
      server.maxConnections = config.httpMaxConnections;
    },
  };
}

/** Serves the API on `config.port`; `close()` stops accepting, lets open requests finish, then cuts the rest. */
export async function startApi(deps: Deps): Promise<{ server: ServerType; close(): Promise<void> }> {
  const app = createApp(deps);
  const limits = serverLimits(deps.config);
  const server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: app.fetch, port: deps.config.port, hostname: '0.0.0.0', serverOptions: limits.serverOptions }, () => resolve(s));
    limits.apply(s as Server);
  });
  deps.logger.info({ port: deps.config.port }, 'api listening');
  return {
    server,
    close: () =>
      new Promise<void>((resolve, reject) => {
        const cut = setTimeout(() => 'closeAllConnections' in server && server.closeAllConnections(), CLOSE_GRACE_MS);
        cut.unref();
        server.close((err) => {
          clearTimeout(cut);
          return err ? reject(err) : resolve();
        });
        // Keep-alive connections would hold close() open until their timeout.
        if ('closeIdleConnections' in server) server.closeIdleConnections();
      }),
  };
}
