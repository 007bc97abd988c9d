import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initORM, type Orm } from '../src/db/orm.js';
import { readUpload } from '../src/imports/upload.repository.js';
import { CHUNK_BYTES, storeUpload } from '../src/imports/upload.service.js';
import { TEST_DATABASE_URL } from './support/env.js';

/**
 * A stored upload read back must be exactly the bytes that were stored, however long the reader
 * keeps each chunk: the worker hands chunks to its parser thread while the next read is running.
 */
describe('reading an upload back', () => {
  let orm: Orm;
  // One connection: every read reuses the buffers of the same socket.
  beforeAll(async () => void (orm = await initORM(TEST_DATABASE_URL, 1)));
  afterAll(async () => orm.close());

  const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

  async function storeAndReadBack(file: Buffer, pieceBytes: number): Promise<Buffer> {
    async function* source() {
      for (let at = 0; at < file.length; at += pieceBytes) yield file.subarray(at, at + pieceBytes);
    }
    const uploadId = randomUUID();
    await storeUpload(orm, uploadId, source(), file.length);
    const kept: Buffer[] = [];
    for await (const chunk of readUpload(orm, uploadId)) {
      kept.push(chunk); // kept as given, not copied
      await orm.em.getConnection().execute(`select repeat('x', 300000) as filler`);
    }
    return Buffer.concat(kept);
  }

  it('gives back every byte of a text file whose stored chunks cut through multi-byte characters', async () => {
    // 'í' is two bytes: after one ASCII byte, every stored chunk boundary falls inside one.
    const file = Buffer.from(`x${'í'.repeat(1.5 * CHUNK_BYTES)}`);
    const read = await storeAndReadBack(file, 64 * 1024);
    expect(read.length).toBe(file.length);
    expect(sha256(read)).toBe(sha256(file));
  });

  it('leaves nothing behind when the upload breaks off after several chunks', async () => {
    const uploadId = randomUUID();
    async function* breaksOff() {
      for (let i = 0; i < 3; i++) yield Buffer.alloc(CHUNK_BYTES, i);
      throw new Error('the client went away');
    }
    await expect(storeUpload(orm, uploadId, breaksOff(), 1 << 30)).rejects.toThrow('the client went away');
    const left = await orm.em.getConnection().execute(
      `select (select count(*) from uploads where id = ?)::int as uploads, (select count(*) from upload_chunks where upload_id = ?)::int as chunks`,
      [uploadId, uploadId],
    );
    expect(left).toEqual([{ uploads: 0, chunks: 0 }]);
  });

  it('gives back any bytes, while later chunks and other queries arrive', async () => {
    const file = Buffer.alloc(5 * CHUNK_BYTES + 12_345);
    for (let i = 0; i < file.length; i++) file[i] = (i * 2654435761) >>> 24;
    const read = await storeAndReadBack(file, 100_000);
    expect(read.length).toBe(file.length);
    expect(sha256(read)).toBe(sha256(file));
  });
});
