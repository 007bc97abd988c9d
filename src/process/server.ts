import { getRequestListener, RequestError, type ServerType } from '@hono/node-server';
import { createServer, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
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
      server.on('clientError', answerClientError);
    },
  };
}

/** Node's codes for what its HTTP parser refuses, as the contract's errors (the rest: 400 invalid). */
const CLIENT_ERRORS: Record<string, [number, 'too_large' | 'invalid', string]> = {
  HPE_HEADER_OVERFLOW: [431, 'too_large', 'the request line and headers are larger than 16 KiB'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'invalid', 'the request headers did not arrive in time'],
};

/**
 * A request Node's HTTP parser refuses (not HTTP, a bad header, headers too large, too slow) never
 * reaches the app: answer it with the error envelope too, instead of Node's bare `400`, and close.
 */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex & { bytesWritten?: number }): void {
  // As Node itself: an answer only on a connection that has sent nothing yet (never inside another one).
  if (err.code === 'ECONNRESET' || !socket.writable || socket.bytesWritten) return void socket.destroy();
  const [status, code, message] = CLIENT_ERRORS[err.code ?? ''] ?? [400, 'invalid', 'not a valid HTTP request'];
  const body = JSON.stringify({ error: { code, message } });
  const reason = status === 431 ? 'Request Header Fields Too Large' : status === 408 ? 'Request Timeout' : 'Bad Request';
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/**
 * What @hono/node-server cannot turn into a request for the app (a backslash in the path, an
 * unparsable Host header or URL) it answers with a bare `400`: answer with the envelope instead.
 * Anything else here escaped the app's own error handler: logged, and a generic 500.
 */
const answerRequestError = (logger: Deps['logger']) => (err: unknown): Response => {
  if (err instanceof RequestError) return Response.json({ error: { code: 'invalid', message: `not a valid request: ${err.message}` } }, { status: 400 });
  logger.error({ err }, 'unhandled error outside the app');
  return Response.json({ error: { code: 'internal', message: 'internal server error' } }, { status: 500 });
};

/** Serves the API on `config.port`; `close()` stops accepting, lets open requests finish, then cuts the rest. */
export async function startApi(deps: Deps): Promise<{ server: ServerType; close(): Promise<void> }> {
  const app = createApp(deps);
  const limits = serverLimits(deps.config);
  const hostname = '0.0.0.0';
  const server: ServerType = createServer(limits.serverOptions, getRequestListener(app.fetch, { hostname, errorHandler: answerRequestError(deps.logger) }));
  limits.apply(server);
  await new Promise<void>((resolve) => server.listen(deps.config.port, hostname, resolve));
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
