import { withTimeout } from '../async/timeout.js';
import type { Logger } from '../process/logger.js';

/** How long a download waits for a reader that takes nothing before it gives up. */
export const STALL_MS = 5 * 60_000;
/**
 * How long a whole download may take. A reader that takes a few bytes a minute never stalls, yet
 * would hold its database snapshot (and an export slot) forever: the download is cut at this age.
 */
export const DOWNLOAD_MAX_MS = 30 * 60_000;
/**
 * How long a download waits for its first read. An HTTP server reads a body as soon as it sends
 * the headers; a body nobody ever reads (the answer to a HEAD, whose body Hono drops) is abandoned.
 */
export const FIRST_READ_MS = 10_000;

class ReaderStalledError extends Error {
  override name = 'ReaderStalledError';
}

/**
 * A text download produced as the reader pulls: nothing starts before its first read, and
 * `produce` awaits each `write`, which resolves only once the reader has taken the chunk
 * (backpressure), so memory stays flat. `produce` ends (and frees what it holds, e.g. a pooled
 * connection) when the reader cancels, takes nothing for `stallMs`, or the download is older than
 * `maxMs`. A failure half-way errors the stream, so the response is cut off visibly instead of
 * ending like a complete file. `onEnd` runs once, however it ended, also when it never started.
 */
export function pullStream(
  what: string,
  log: Logger,
  produce: (write: (text: string) => Promise<void>) => Promise<void>,
  opts: { stallMs?: number; maxMs?: number; firstReadMs?: number; onEnd?: () => void } = {},
): ReadableStream<Uint8Array> {
  const stallMs = opts.stallMs ?? STALL_MS;
  const maxMs = opts.maxMs ?? DOWNLOAD_MAX_MS;
  const deadline = Date.now() + maxMs;
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const writer = writable.getWriter();
  const encoder = new TextEncoder();
  let cancelled = false;
  // A cancelled reader makes every later write reject: that ends `produce`.
  writer.closed.catch(() => (cancelled = true));
  const write = (text: string) => {
    const left = deadline - Date.now();
    const late = () => new ReaderStalledError(`the download took longer than ${maxMs} ms`);
    if (left <= 0) return Promise.reject(late());
    const stalled = () => (left < stallMs ? late() : new ReaderStalledError(`the reader took nothing for ${stallMs} ms`));
    return withTimeout(writer.write(encoder.encode(text)), Math.min(stallMs, left), stalled);
  };

  const run = async () => {
    try {
      await produce(write);
      await writer.close();
    } catch (err) {
      if (cancelled) {
        log.info(`${what} cancelled by the client`);
      } else {
        log.warn({ err }, `${what} failed`);
        await writer.abort(err).catch(() => {});
      }
    } finally {
      opts.onEnd?.();
    }
  };

  const source = readable.getReader();
  let started = false;
  const unread = setTimeout(() => {
    started = true; // never now: a late read finds the stream ended
    log.info(`${what} never read: abandoned`);
    void source.cancel().catch(() => {});
    opts.onEnd?.();
  }, opts.firstReadMs ?? FIRST_READ_MS);
  unread.unref();
  const start = () => {
    if (started) return;
    started = true;
    clearTimeout(unread);
    void run();
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        start();
        const next = await source.read();
        if (next.done) controller.close();
        else controller.enqueue(next.value);
      },
      cancel(reason) {
        clearTimeout(unread);
        if (!started) opts.onEnd?.(); // else `run` ends, and calls it
        started = true;
        return source.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}
