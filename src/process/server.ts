import { serve, type ServerType } from '@hono/node-server';
import type { Deps } from './deps.js';
import { createApp } from '../http/app.js';

/** Open requests get this long to finish on shutdown; then long-lived ones (event streams, downloads) are cut. */
const CLOSE_GRACE_MS = 5_000;

/** Serves the API on `config.port`; `close()` stops accepting, lets open requests finish, then cuts the rest. */
export async function startApi(deps: Deps): Promise<{ server: ServerType; close(): Promise<void> }> {
  const app = createApp(deps);
  const server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: app.fetch, port: deps.config.port, hostname: '0.0.0.0' }, () => resolve(s));
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
