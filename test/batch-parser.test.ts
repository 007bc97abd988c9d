import { describe, expect, it } from 'vitest';
import { parseInThread } from '../src/imports/batch-parser.js';
import { ImportFileError } from '../src/imports/csv-reader.js';
import { stagedBatches, toStagedBatch, type StagedBatch } from '../src/imports/staged-batch.js';

/** The file's bytes in chunks of `size`, cutting through records and multi-byte characters. */
async function* chunksOf(text: string, size: number): AsyncGenerator<Buffer> {
  const bytes = Buffer.from(text);
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

/** The batches, each kept (its COPY text copied: the thread takes a batch's memory back for a later batch). */
const collect = async (batches: AsyncIterable<StagedBatch>) => {
  const out: StagedBatch[] = [];
  for await (const b of batches) out.push({ ...b, copy: Buffer.from(b.copy) });
  return out;
};

const FILE =
  'name,email,course_name,action\n' +
  Array.from({ length: 250 }, (_, i) => (i % 50 === 7 ? `bad,not-an-email,Art,\n` : `Zoë ${i},s${i}@x.io,"Course, ${i % 9}",${i % 3 ? '' : 'add'}\n`)).join('');

describe('the import parser thread', () => {
  it('gives exactly the batches of the in-process parser, whatever the chunk boundaries', async () => {
    for (const size of [7, 100, 1 << 16]) {
      const opts = { mode: 'set' as const, skip: 13, size: 40 };
      const threaded = await collect(parseInThread(chunksOf(FILE, size), opts));
      expect(threaded).toEqual(await collect(stagedBatches(chunksOf(FILE, size), opts)));
      expect(threaded.reduce((n, b) => n + b.rows, 0)).toBe(250 - 13);
      // Rows 7, 57, 107, 157 and 207 are invalid; the first is skipped.
      expect(threaded.flatMap((b) => b.errors.map((e) => e.line))).toEqual([59, 109, 159, 209]);
    }
  });

  it('moves a chunk that is the whole of its memory to the thread, and copies a slice of shared memory', async () => {
    // As read back from PostgreSQL: each chunk a buffer of its own. Sliced from one buffer (or from
    // Node's pool, as small buffers are), a chunk must not be taken from its owner.
    const bytes = Buffer.from(FILE);
    const own = [bytes.subarray(0, 5_000), bytes.subarray(5_000)].map((b) => {
      const mine = Buffer.allocUnsafeSlow(b.length);
      b.copy(mine);
      return mine;
    });
    const shared = [Buffer.from('name,email,course_name\n'), Buffer.from('Ann,a@x.io,Math\n')];
    async function* each(chunks: Buffer[]): AsyncGenerator<Buffer> {
      yield* chunks;
    }
    const opts = { mode: 'set' as const, skip: 0, size: 40 };
    expect(await collect(parseInThread(each(own), opts))).toEqual(await collect(stagedBatches(chunksOf(FILE, 5_000), opts)));
    expect(own.map((b) => b.byteLength)).toEqual([0, 0]);
    expect((await collect(parseInThread(each(shared), opts)))[0]!.copy.toString()).toBe('2\ta@x.io\tAnn\tMath\tset\tt\n');
    expect(shared.map((b) => b.toString())).toEqual(['name,email,course_name\n', 'Ann,a@x.io,Math\n']);
  });

  it('takes a batch\'s memory back, for later batches, once the next batch is asked for', async () => {
    const opts = { mode: 'set' as const, skip: 0, size: 40 };
    const expected = await collect(stagedBatches(chunksOf(FILE, 64), opts));
    let previous: StagedBatch | null = null;
    const texts: string[] = [];
    for await (const batch of parseInThread(chunksOf(FILE, 64), opts)) {
      // The batch before this one is the thread's again: its memory moved back.
      if (previous) expect(previous.copy.byteLength).toBe(0);
      texts.push(batch.copy.toString());
      previous = batch;
    }
    expect(texts).toEqual(expected.map((b) => b.copy.toString()));
  });

  it('reports a whole-file problem as the ImportFileError it is', async () => {
    const err = await collect(parseInThread(chunksOf('name,email\nAnn,a@x.io\n', 5), { mode: 'set', skip: 0, size: 10 })).catch((e) => e);
    expect(err).toBeInstanceOf(ImportFileError);
    expect(err).toMatchObject({ code: 'missing_columns' });
  });

  it('passes on a failure to read the file with its code (so a lost connection is retried)', async () => {
    async function* broken(): AsyncGenerator<Buffer> {
      yield Buffer.from('name,email,course_name\nAnn,a@x.io,Math\n');
      throw Object.assign(new Error('Connection terminated unexpectedly'), { code: 'ECONNRESET' });
    }
    const err = await collect(parseInThread(broken(), { mode: 'set', skip: 0, size: 10 })).catch((e) => e);
    expect(err).toMatchObject({ message: 'Connection terminated unexpectedly', code: 'ECONNRESET' });
  });

  it('stops reading the file when the consumer stops', async () => {
    let reads = 0;
    let closed = false;
    async function* counted(): AsyncGenerator<Buffer> {
      try {
        for await (const chunk of chunksOf(FILE, 64)) {
          reads++;
          yield chunk;
        }
      } finally {
        closed = true;
      }
    }
    for await (const batch of parseInThread(counted(), { mode: 'set', skip: 0, size: 10 })) {
      expect(batch.rows).toBe(10);
      break;
    }
    expect(closed).toBe(true);
    // Two batches ahead at most: far from the whole file (~140 chunks).
    expect(reads).toBeLessThan(40);
  });
});

describe('the import parser thread, resized', () => {
  it('makes the batches it starts after a new size has that size, with every row once and in order', async () => {
    const opts = { mode: 'set' as const, skip: 0, size: 10 };
    const batches = await collect(parseInThread(chunksOf(FILE, 64), opts, () => 25));
    const sizes = batches.map((b) => b.rows);
    // The first batches were under way before the consumer took one and asked for 25.
    expect(sizes[0]).toBe(10);
    expect(sizes.slice(3, -1).every((n) => n === 25)).toBe(true);
    expect(sizes.every((n) => n === 10 || n === 25 || n === sizes.at(-1))).toBe(true);
    const whole = await collect(stagedBatches(chunksOf(FILE, 64), { ...opts, size: 1_000 }));
    expect(batches.map((b) => b.copy.toString()).join('')).toBe(whole[0]!.copy.toString());
    expect(batches.flatMap((b) => b.errors)).toEqual(whole[0]!.errors);
  });
});

describe('staged batches (COPY text)', () => {
  it('escapes what COPY would read as structure, and marks an absent name as NULL', () => {
    const staged = toStagedBatch([
      { line: 2, command: { student: { email: 'a\\b@x.io' }, courseName: 'Tab\there', action: 'set', name: 'Line\nbreak \\N' } },
      { line: 3, command: { student: { email: 'c@x.io' }, courseName: 'Art', action: 'add' } },
      { line: 4, errors: [{ line: 4, column: 'email', code: 'invalid_email', message: 'bad', value: 'x' }] },
    ]);
    expect(staged).toMatchObject({
      rows: 3,
      valid: 2,
      staged: 2,
      errors: [{ line: 4, column: 'email', code: 'invalid_email', message: 'bad', value: 'x' }],
    });
    expect(staged.copy.toString()).toBe('2\ta\\\\b@x.io\tLine\\nbreak \\\\N\tTab\\there\tset\tt\n3\tc@x.io\t\\N\tArt\tadd\tt\n');
  });

  it('writes a batch bigger than its first buffer whole, multi-byte characters included', () => {
    const rows = Array.from({ length: 3_000 }, (_, i) => ({
      line: i + 2,
      command: { student: { email: `s${i}@x.io` }, courseName: 'Ökonomie 101', action: 'set' as const, name: `${'Zoë 😀 '.repeat(20)}${i}` },
    }));
    const staged = toStagedBatch(rows, [{ line: 9_999, email: 'n@x.io', courseName: 'Art' }]);
    const expected = rows.map((r) => `${r.line}\t${r.command.student.email}\t${r.command.name}\tÖkonomie 101\tset\tt\n`).join('') + '9999\tn@x.io\t\\N\tArt\tadd\tf\n';
    expect(staged.copy.length).toBeGreaterThan(256 * 1024);
    expect(staged.copy.toString()).toBe(expected);
    expect(staged).toMatchObject({ rows: 3_000, valid: 3_000, staged: 3_001 });
  });

  it('stages the email and course of an invalid row that names a valid pair, marked not valid (a sync\'s sweep)', () => {
    const staged = toStagedBatch(
      [{ line: 2, errors: [{ line: 2, column: 'action', code: 'invalid_action', message: 'bad', value: 'ad' }] }],
      [{ line: 2, email: 'a@x.io', courseName: 'Art' }],
    );
    expect(staged).toMatchObject({ rows: 1, valid: 0, staged: 1 });
    expect(staged.copy.toString()).toBe('2\ta@x.io\t\\N\tArt\tadd\tf\n');
  });
});
