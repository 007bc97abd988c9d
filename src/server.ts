import { serve, type ServerType } from '@hono/node-server';
import type { Deps } from './deps.js';
import { createApp } from './http/app.js';

/** Serves the API on `config.port`; `close()` stops accepting and waits for open requests. */
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
        server.close((err) => (err ? reject(err) : resolve()));
        // Keep-alive connections would hold close() open until their timeout.
        if ('closeIdleConnections' in server) server.closeIdleConnections();
      }),
  };
}
