import { Readable } from 'node:stream';
import type { ReadableStream } from 'node:stream/web';
import { pipeline } from 'node:stream/promises';
import { ApiError, type Client } from './client.js';
import { EXIT } from './exit-codes.js';
import type { Io } from './io.js';

/** Streams a CSV download to stdout as it arrives. A reader that stops early (`| head`) is not an error. */
export async function download(client: Client, path: string, io: Io): Promise<number> {
  const res = await client.request(path, { headers: { Accept: 'text/csv' } });
  return pipeOut(Readable.fromWeb(res.body! as ReadableStream<Uint8Array>), io);
}

/**
 * Writes `source` to stdout as it comes, only as fast as stdout takes it. A reader that stops early
 * (`| head`) is not an error; an API error of the source is thrown as it is.
 */
export async function pipeOut(source: Readable | AsyncIterable<string | Uint8Array>, io: Io): Promise<number> {
  try {
    await pipeline(source instanceof Readable ? source : Readable.from(source), io.stdout, { end: false });
    return EXIT.ok;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EPIPE') return EXIT.ok;
    if (err instanceof ApiError) throw err;
    // The server cuts a failed download off rather than ending it like a complete file.
    throw new ApiError(`the download broke off: ${(err as Error).message}`, null, null);
  }
}
