import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { csvParseBatches, readCsvRecordBatches, type CsvRecord } from '../src/imports/csv-reader.js';

/**
 * CONTRACT §3: the reader splits quote-free lines itself and hands the rest of the file to
 * csv-parse at the first line with a quote. Whatever the text and the chunk boundaries, its records
 * (fields and first lines) and its errors' codes are csv-parse's own over the whole file.
 */

const chunked = (bytes: Buffer, size: number) =>
  (async function* () {
    for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
  })();

async function read(batches: AsyncGenerator<CsvRecord[]>): Promise<{ records: CsvRecord[] } | { error: string }> {
  const records: CsvRecord[] = [];
  try {
    for await (const batch of batches) records.push(...batch);
    return { records };
  } catch (err) {
    // The message counts lines from where csv-parse started reading: the code is compared.
    return { error: (err as { code?: string }).code ?? String(err) };
  }
}

const text = (alphabet: string[]) => fc.array(fc.constantFrom(...alphabet), { maxLength: 200 }).map((cs) => cs.join(''));
const plain = ['a', 'b', 'é', ',', ',', ' ', '\n', '\n', '\r', '\r\n', '\uFEFF'];
const quoted = [...plain, '"', '""', '"a,b"', '"x\ny"'];

describe('the CSV reader', () => {
  for (const [kind, alphabet] of [['without quotes', plain], ['with quotes', quoted]] as const) {
    it(`reads text ${kind} as csv-parse does, in any chunks`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.boolean(), text(alphabet), fc.integer({ min: 1, max: 64 }), async (bom, body, size) => {
          const bytes = Buffer.from(`${bom ? '\uFEFF' : ''}${body}`);
          const ours = await read(readCsvRecordBatches(chunked(bytes, size)));
          const theirs = await read(csvParseBatches(chunked(bytes, 7)));
          expect(ours).toEqual(theirs);
        }),
        { numRuns: 400 },
      );
    });
  }

  it('numbers the lines of a long quote-free file, then of its quoted rest, as csv-parse does', async () => {
    const lines = Array.from({ length: 5000 }, (_, i) => (i % 7 === 0 ? '' : `Name ${i},s${i}@x.edu,Course ${i % 13}`));
    lines.splice(4000, 0, '"Quoted, Name","multi\nline",C');
    const bytes = Buffer.from(`name,email,course_name\r\n${lines.join('\r\n')}\r\n`);
    const ours = await read(readCsvRecordBatches(chunked(bytes, 4096)));
    expect(ours).toEqual(await read(csvParseBatches(chunked(bytes, 4096))));
    expect('records' in ours && ours.records.at(-1)).toEqual({ line: 5003, fields: ['Name 4999', 's4999@x.edu', 'Course 7'] });
  });
});
