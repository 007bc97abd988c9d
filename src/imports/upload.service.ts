import { createHash } from 'node:crypto';
import type { Orm } from '../db/orm.js';
import { AppError } from '../http/errors.js';
import { createUpload, deleteUpload, insertChunk } from './upload.repository.js';

/** Bytes per stored chunk: big enough for few round trips, small enough for flat memory. */
export const CHUNK_BYTES = 1024 * 1024;

/** A file fully received and stored. */
export type StoredFile = { uploadId: string; sizeBytes: number; sha256: string };

const tooLarge = (max: number) => new AppError('too_large', `the upload is larger than MAX_UPLOAD_BYTES (${max} bytes)`);

/**
 * Streams `source` into a new upload `uploadId` in PostgreSQL, CHUNK_BYTES per row, hashing as it
 * goes (the caller knows the id from the start, so it can keep the upload alive while it streams).
 * Memory stays at about two chunks whatever the size. Anything that goes wrong (more than
 * `maxBytes`, a client that disconnects, a database error) deletes what was stored and rethrows.
 */
export async function storeUpload(
  orm: Orm,
  uploadId: string,
  source: AsyncIterable<Uint8Array>,
  maxBytes: number,
  /** Sees every piece of the file, in order, as it passes (the accept-time CSV scan). */
  onPiece: (piece: Buffer) => void = () => {},
): Promise<StoredFile> {
  await createUpload(orm, uploadId);
  const hash = createHash('sha256');
  let size = 0;
  let seq = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  // One chunk is written while the next is received: the write is most of an upload's time here.
  let writing: Promise<void> = Promise.resolve();
  const flush = async () => {
    const data = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    await writing;
    writing = insertChunk(orm, uploadId, seq++, data);
    writing.catch(() => {}); // awaited at the next flush or at the end
  };
  try {
    for await (const piece of source) {
      size += piece.byteLength;
      if (size > maxBytes) throw tooLarge(maxBytes);
      hash.update(piece);
      // Copy: the stream may reuse its buffer once we let go of it.
      const copy = Buffer.from(piece);
      onPiece(copy);
      pending.push(copy);
      pendingBytes += piece.byteLength;
      if (pendingBytes >= CHUNK_BYTES) await flush();
    }
    if (pendingBytes > 0) await flush();
    await writing;
    return { uploadId, sizeBytes: size, sha256: hash.digest('hex') };
  } catch (err) {
    await writing.catch(() => {});
    await deleteUpload(orm, uploadId).catch(() => {});
    throw err;
  }
}

/** Reads `source` only to hash it (a repeat of an answered Idempotency-Key), with the same limit. */
export async function hashUpload(source: AsyncIterable<Uint8Array>, maxBytes: number): Promise<{ sizeBytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const piece of source) {
    size += piece.byteLength;
    if (size > maxBytes) throw tooLarge(maxBytes);
    hash.update(piece);
  }
  return { sizeBytes: size, sha256: hash.digest('hex') };
}
