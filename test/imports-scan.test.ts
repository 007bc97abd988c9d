import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readCsvRecords } from '../src/imports/csv-reader.js';
import { createCsvScanner } from '../src/imports/csv-scan.js';

/**
 * The whole-file syntax scan must agree with csv-parse exactly: a file the scan passes must parse
 * to its end (or an import could fail half-applied), and a file it fails must not parse.
 */

async function parses(bytes: Buffer, chunkSize: number): Promise<{ ok: boolean; records: number }> {
  async function* chunks() {
    for (let i = 0; i < bytes.length; i += chunkSize) yield bytes.subarray(i, i + chunkSize);
  }
  let records = 0;
  try {
    for await (const _ of readCsvRecords(chunks())) records++;
    return { ok: true, records };
  } catch {
    return { ok: false, records };
  }
}

function scans(bytes: Buffer, chunkSize: number, max = 1 << 20): { ok: boolean; records: number } {
  const scanner = createCsvScanner(max);
  try {
    for (let i = 0; i < bytes.length; i += chunkSize) scanner.push(bytes.subarray(i, i + chunkSize));
    return { ok: true, records: scanner.end().records };
  } catch {
    return { ok: false, records: -1 };
  }
}

const piece = fc.constantFrom('a', 'b', ',', '"', '""', '\n', '\r\n', '\r', ' ', 'é', '\ufeff');
const csvText = fc.array(piece, { maxLength: 40 }).map((ps) => ps.join(''));

describe('whole-file CSV scan', () => {
  it('fails exactly when csv-parse fails, whatever the chunk boundaries', async () => {
    await fc.assert(
      fc.asyncProperty(fc.boolean(), csvText, fc.integer({ min: 1, max: 7 }), async (bom, text, chunkSize) => {
        const bytes = Buffer.from((bom ? '\ufeff' : '') + text);
        const scanned = scans(bytes, chunkSize);
        const parsed = await parses(bytes, chunkSize);
        expect(scanned.ok).toBe(parsed.ok);
        // The count is an estimate (whitespace-only lines count here), never below the real one.
        if (parsed.ok) expect(scanned.records).toBeGreaterThanOrEqual(parsed.records);
      }),
      { numRuns: 3_000 },
    );
  });

  it('counts and fails exactly as the byte-by-byte state machine, at the same line, whatever the chunks', () => {
    const bytes = (...b: number[]) => Buffer.from(b);
    // Runs long enough (80 bytes) that quote-free stretches between quotes go to the native helpers.
    const text = fc.constantFrom('a', 'xy', ',', '"', '""', '\n', '\r\n', '\r', ' ', '\t', 'é', '€', '😀', '\ufeff', 'n'.repeat(80), 'Zoë,z@x.io,Art\n'.repeat(5)).map((t) => Buffer.from(t));
    // Not UTF-8: a stray continuation byte, a cut sequence, an overlong form, a surrogate, 0xff.
    const notUtf8 = fc.constantFrom(bytes(0x80), bytes(0xc3), bytes(0xe2, 0x82), bytes(0xc0, 0xaf), bytes(0xed, 0xa0, 0x80), bytes(0xff));
    const piece = fc.oneof({ weight: 20, arbitrary: text }, { weight: 1, arbitrary: notUtf8 });
    const outcome = (file: Buffer, chunk: number, max: number, bytewise: boolean) => {
      const scanner = createCsvScanner(max, { bytewise });
      try {
        for (let i = 0; i < file.length; i += chunk) scanner.push(file.subarray(i, i + chunk));
        return { records: scanner.end().records };
      } catch (err) {
        return { error: (err as Error).message };
      }
    };
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 60 }),
        fc.integer({ min: 1, max: 9 }),
        fc.oneof(fc.integer({ min: 1, max: 24 }), fc.integer({ min: 25, max: 300 })),
        (pieces, chunk, max) => {
          const file = Buffer.concat(pieces);
          const reference = outcome(file, chunk, max, true);
          expect(outcome(file, chunk, max, false)).toEqual(reference);
          expect(outcome(file, file.length || 1, max, false)).toEqual(outcome(file, file.length || 1, max, true));
        },
      ),
      {
        numRuns: 5_000,
        // A quoted field longer than the limit, right before a line break, after a long quote-free stretch.
        examples: [[[Buffer.from(`${'n'.repeat(70)}\n"${'q'.repeat(90)}"\nx\n`)], 9, 80]],
      },
    );
  });

  it('reports an unclosed quote and an over-long record', () => {
    expect(() => scans(Buffer.from('a,b\n"open,c\nd,e\n'), 4)).not.toThrow();
    expect(scans(Buffer.from('a,b\n"open,c\nd,e\n'), 4).ok).toBe(false);
    expect(scans(Buffer.from(`a,b\n${'x'.repeat(100)}\n`), 8, 50).ok).toBe(false);
    expect(scans(Buffer.from('a,b\n"x""y",c\n\n  \n'), 3)).toEqual({ ok: true, records: 2 });
  });
});
