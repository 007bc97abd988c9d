import { serve, type ServerType } from '@hono/node-server';
import type { Deps } from './deps.js';
import { createApp } from './http/app.js';
import { enqueuesSettled } from './jobs/accept.service.js';

/** Open requests get this long to finish on shutdown; then long-lived ones (event streams, downloads) are cut. */
const CLOSE_GRACE_MS = 5_000;

/**
 * Serves the API on `config.port`; `close()` stops accepting, lets open requests finish (then cuts
 * the rest), and waits for accepted jobs to reach BullMQ.
 */
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
          // Accepted jobs still on their way to BullMQ get there before the connections close.
          return err ? reject(err) : enqueuesSettled(deps).then(resolve, reject);
        });
        // Keep-alive connections would hold close() open until their timeout.
        if ('closeIdleConnections' in server) server.closeIdleConnections();
      }),
  };
}
