import { Readable } from 'node:stream';
import type { ReadableStream } from 'node:stream/web';
import busboy from 'busboy';
import { AppError } from '../http/errors.js';

/** The multipart field that carries the CSV. */
export const FILE_FIELD = 'file';

/** Longest file name kept (the `?filename=` limit). */
export const MAX_FILE_NAME = 255;

/**
 * The name a multipart part gives its file, as the job's `file_name`: its last path segment (some
 * clients send a whole path), trimmed, without control characters or unpaired surrogates, at most
 * MAX_FILE_NAME characters; null when nothing is left.
 */
export function uploadFileName(raw: string | undefined): string | null {
  if (!raw) return null;
  const base = raw.split(/[\\/]/).pop() ?? '';
  const clean = base.replace(/[\u0000-\u001f\u007f-\u009f\ufffd]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '').trim();
  return clean ? Array.from(clean).slice(0, MAX_FILE_NAME).join('').trim() : null;
}

/**
 * Streams the bytes of the `file` field of a multipart/form-data body, without buffering it:
 * busboy parses the body as it arrives and pauses it while we are busy storing a chunk. Other
 * fields and files are skipped. A body without a `file` field is a 400. `onFileName` gets the
 * part's own file name (uploadFileName) as soon as the part begins, before its first byte.
 */
export async function* multipartFile(
  body: ReadableStream<Uint8Array> | null,
  headers: Record<string, string>,
  maxBytes: number,
  onFileName: (name: string | null) => void = () => {},
): AsyncGenerator<Buffer> {
  let parser: busboy.Busboy;
  try {
    // One byte over the limit is enough for the caller to answer 413.
    // Browsers send a file name in UTF-8 without saying so; busboy would read it as latin1.
    parser = busboy({ headers, defParamCharset: 'utf8', limits: { fileSize: maxBytes + 1, fields: 50, fieldSize: 64 * 1024 } });
  } catch (err) {
    throw new AppError('invalid', `not a valid multipart/form-data body: ${(err as Error).message}`);
  }
  if (!body) throw new AppError('invalid', `the multipart body has no field named "${FILE_FIELD}"`);
  const input = Readable.fromWeb(body);
  const invalid = (err: unknown) =>
    err instanceof AppError ? err : new AppError('invalid', `not a valid multipart/form-data body: ${(err as Error).message}`);
  let found = false;
  const file = new Promise<Readable>((resolve, reject) => {
    parser.on('file', (name, stream, info) => {
      if (name === FILE_FIELD && !found) {
        found = true;
        onFileName(uploadFileName(info.filename));
        resolve(stream);
      } else {
        // Skipped, but listened to: a part cut short errors its stream, and an 'error' without a
        // listener is an uncaught exception that ends the process (the parser reports it anyway).
        stream.on('error', () => {});
        stream.resume();
      }
    });
    parser.on('error', (err) => reject(invalid(err)));
    parser.on('close', () => reject(new AppError('invalid', `the multipart body has no field named "${FILE_FIELD}"`)));
    input.on('error', reject);
  });
  file.catch(() => {}); // awaited below
  // The whole body parsed to its closing boundary, or why not (a later part cut short fails the upload too).
  const closed = new Promise<void>((resolve, reject) => {
    parser.on('close', resolve);
    parser.on('error', (err) => reject(invalid(err)));
    input.on('error', (err) => reject(invalid(err)));
  });
  closed.catch(() => {}); // awaited below
  input.pipe(parser);
  const stream = await file;
  // A parse error after the file began must fail the upload, not end it early.
  parser.on('error', (err) => stream.destroy(err as Error));
  input.on('error', (err) => stream.destroy(err));
  let complete = false;
  try {
    // A body cut short (no closing boundary) fails here with busboy's own error: a 400, not a 500.
    try {
      for await (const piece of stream) yield piece as Buffer;
    } catch (err) {
      throw invalid(err);
    }
    complete = true;
  } finally {
    if (!complete) {
      input.unpipe(parser);
      input.destroy();
    }
  }
  // Read the rest of the body (the closing boundary, any later field) before answering.
  await closed;
}
