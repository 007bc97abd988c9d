import { withTimeout } from '../async/timeout.js';
import type { Logger } from '../process/logger.js';

/** How long a download waits for a reader that takes nothing before it gives up. */
export const STALL_MS = 5 * 60_000;
/**
 * How long a whole download may take. A reader that takes a few bytes a minute never stalls, yet
 * would hold its database snapshot (and an export slot) forever: the download is cut at this age.
 */
export const DOWNLOAD_MAX_MS = 30 * 60_000;

class ReaderStalledError extends Error {
  override name = 'ReaderStalledError';
}

/**
 * A text download produced as the reader pulls: `produce` awaits each `write`, which resolves
 * only once the reader has taken the chunk (backpressure), so memory stays flat. `produce` ends
 * (and frees what it holds, e.g. a pooled connection) when the reader cancels, takes nothing for
 * `stallMs`, or the download is older than `maxMs`. A failure half-way errors the stream, so the
 * response is cut off visibly instead of ending like a complete file. `onEnd` runs once it has
 * finished, however it ended.
 */
export function pullStream(
  what: string,
  log: Logger,
  produce: (write: (text: string) => Promise<void>) => Promise<void>,
  opts: { stallMs?: number; maxMs?: number; onEnd?: () => void } = {},
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

  void (async () => {
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
  })();
  return readable;
}
