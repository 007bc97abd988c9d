import type pg from 'pg';
import { withPgClient, type Orm } from '../db/orm.js';

/**
 * Uploaded files, stored in PostgreSQL as numbered chunks of bytea: durable before the 202 and
 * readable by any worker on any machine. Chunks live only until their import finishes.
 */

/** A `receiving` upload not touched for this long belongs to an API that died mid-stream. */
const ABANDONED_UPLOAD = '10 minutes';

/** Starts an upload (status `receiving`), first purging uploads abandoned mid-stream. */
export async function createUpload(orm: Orm, id: string): Promise<void> {
  await withPgClient(orm, async (client) => {
    await client.query(`delete from uploads where status = 'receiving' and touched_at < now() - $1::interval`, [ABANDONED_UPLOAD]);
    await client.query(`insert into uploads (id) values ($1)`, [id]);
  });
}

/** Appends chunk `seq` of an upload. */
export async function insertChunk(orm: Orm, uploadId: string, seq: number, data: Buffer): Promise<void> {
  await withPgClient(orm, (client) =>
    client.query(`insert into upload_chunks (upload_id, seq, data) values ($1, $2, $3)`, [uploadId, seq, data]),
  );
}

/** Says the upload is still streaming, so that it is not purged as abandoned. */
export async function touchUpload(orm: Orm, uploadId: string): Promise<void> {
  await withPgClient(orm, (client) => client.query(`update uploads set touched_at = now() where id = $1`, [uploadId]));
}

/** Marks a fully received upload stored and attaches it to its job (inside the accept transaction). */
export async function markUploadStored(
  client: pg.ClientBase,
  upload: { id: string; jobId: string; sizeBytes: number; sha256: string },
): Promise<void> {
  const { rowCount } = await client.query(
    `update uploads set status = 'stored', job_id = $2, size_bytes = $3, sha256 = $4, touched_at = now()
      where id = $1 and status = 'receiving'`,
    [upload.id, upload.jobId, upload.sizeBytes, upload.sha256],
  );
  // Never answer 202 for a file that is not all there (e.g. purged as abandoned meanwhile).
  if (rowCount !== 1) throw new Error(`upload ${upload.id} is no longer being received`);
}

/** Removes an upload and its chunks (a failed or refused upload leaves nothing behind). */
export async function deleteUpload(orm: Orm, uploadId: string): Promise<void> {
  await withPgClient(orm, (client) => client.query(`delete from uploads where id = $1`, [uploadId]));
}

/**
 * Chunks fetched per query while reading a file back. One: a chunk read costs a few milliseconds
 * against tens to parse it, and each chunk in flight is held several times over while node-postgres
 * decodes it (the message, its hex text, the bytes).
 */
const CHUNKS_PER_READ = 1;

/**
 * Streams a stored upload back, chunk by chunk, in order. The next read is in flight while the
 * caller consumes the current chunks, so parsing never waits on the database for long.
 */
export async function* readUpload(orm: Orm, uploadId: string): AsyncGenerator<Buffer> {
  // In text format (hex, decoded natively by pg), never `binary: true`: node-postgres decodes every
  // binary value as UTF-8 text and encodes it back, which breaks a character cut by a chunk boundary.
  const fetch = (from: number) =>
    withPgClient(orm, (client) =>
      client.query<{ data: Buffer }>(`select data from upload_chunks where upload_id = $1 and seq >= $2 and seq < $3 order by seq`, [
        uploadId,
        from,
        from + CHUNKS_PER_READ,
      ]),
    );
  const prefetch = (from: number) => {
    const p = fetch(from);
    p.catch(() => {}); // awaited below; a reader that stops early must not leave an unhandled rejection
    return p;
  };
  let next = prefetch(0);
  for (let from = 0; ; from += CHUNKS_PER_READ) {
    const { rows } = await next;
    if (rows.length === CHUNKS_PER_READ) next = prefetch(from + CHUNKS_PER_READ);
    for (const row of rows) yield row.data;
    if (rows.length < CHUNKS_PER_READ) return;
  }
}
