import { withTimeout } from '../async/timeout.js';
import type { Logger } from '../process/logger.js';

/** How long a download waits for a reader that takes nothing before it gives up. */
export const STALL_MS = 5 * 60_000;

class ReaderStalledError extends Error {
  override name = 'ReaderStalledError';
}

/**
 * A text download produced as the reader pulls: `produce` awaits each `write`, which resolves
 * only once the reader has taken the chunk (backpressure), so memory stays flat. `produce` ends
 * (and frees what it holds, e.g. a pooled connection) when the reader cancels or takes nothing
 * for `stallMs`. A failure half-way errors the stream, so the response is cut off visibly
 * instead of ending like a complete file. `onEnd` runs once it has finished, however it ended.
 */
export function pullStream(
  what: string,
  log: Logger,
  produce: (write: (text: string) => Promise<void>) => Promise<void>,
  opts: { stallMs?: number; onEnd?: () => void } = {},
): ReadableStream<Uint8Array> {
  const stallMs = opts.stallMs ?? STALL_MS;
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const writer = writable.getWriter();
  const encoder = new TextEncoder();
  let cancelled = false;
  // A cancelled reader makes every later write reject: that ends `produce`.
  writer.closed.catch(() => (cancelled = true));
  const write = (text: string) =>
    withTimeout(writer.write(encoder.encode(text)), stallMs, () => new ReaderStalledError(`the reader took nothing for ${stallMs} ms`));

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
