import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { invalidCharacterAt, parseEnrollmentFields } from '../../src/domain/validation.js';
import { ImportFileError, readCsvRecords } from '../../src/imports/csv-reader.js';
import { createFileScan } from '../../src/imports/csv-scan.js';
import { resolveHeader, toImportRow } from '../../src/imports/import-rows.js';
import { parseToolArgs, type LegacyTool } from '../../src/legacy/cli.js';

/**
 * Issue 15, "go further": properties over the CSV scan, the CSV reader and row validation, on any
 * bytes and any text (control characters, unpaired surrogates, invalid UTF-8), as a fuzzer would.
 */

/** Bytes that look like CSV often enough to get past the header, with every kind of hostile byte mixed in. */
const hostileByte = fc.oneof(
  fc.constantFrom(...Buffer.from('a,"\n\r ;=')),
  fc.constantFrom(0x00, 0x01, 0x1b, 0x7f, 0x80, 0xbf, 0xc0, 0xc2, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xfe, 0xff),
  fc.integer({ min: 0, max: 255 }),
);
const hostileFile = fc
  .tuple(fc.boolean(), fc.array(hostileByte, { maxLength: 120 }))
  .map(([header, bytes]) => Buffer.concat([Buffer.from(header ? 'email,course_name,name\n' : ''), Buffer.from(bytes)]));

/** Any UTF-16 code unit, lone surrogates included. */
const anyText = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((n) => String.fromCharCode(n)), maxLength: 40 });

async function readAll(bytes: Buffer, chunk: number): Promise<{ ok: true; text: string } | { ok: false; error: unknown }> {
  async function* chunks() {
    for (let i = 0; i < bytes.length; i += chunk) yield bytes.subarray(i, i + chunk);
  }
  try {
    let text = '';
    for await (const r of readCsvRecords(chunks())) text += r.fields.join('');
    return { ok: true, text };
  } catch (error) {
    return { ok: false, error };
  }
}

function scanAll(bytes: Buffer, chunk: number) {
  const scan = createFileScan(1 << 20);
  for (let i = 0; i < bytes.length; i += chunk) scan.push(bytes.subarray(i, i + chunk));
  return scan.end();
}

const isUtf8 = (bytes: Buffer) => {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
};

describe('the upload-time scan and the reader, on any bytes', () => {
  it('the scan says not_utf8 exactly when the bytes are not UTF-8, whatever the chunk boundaries, and never throws', () => {
    fc.assert(
      fc.property(hostileFile, fc.integer({ min: 1, max: 9 }), (bytes, chunk) => {
        const scan = scanAll(bytes, chunk);
        const notUtf8 = 'error' in scan && scan.error.code === 'not_utf8';
        expect(notUtf8).toBe(!isUtf8(bytes));
        if ('error' in scan) expect(scan.error.message).toMatch(/line \d+/);
      }),
      { numRuns: 3_000 },
    );
  });

  it('a file the scan passes is read to its end, and no U+FFFD appears that the file did not hold', async () => {
    await fc.assert(
      fc.asyncProperty(hostileFile, fc.integer({ min: 1, max: 9 }), async (bytes, chunk) => {
        const scan = scanAll(bytes, chunk);
        const read = await readAll(bytes, chunk);
        // The reader fails only on a whole-file problem, never with anything else.
        if (!read.ok) expect(read.error).toBeInstanceOf(ImportFileError);
        if ('error' in scan) return;
        // A binary start (NUL and non-UTF-8) is refused before; a scanned file is UTF-8, so the reader parses it.
        expect(read.ok).toBe(true);
        if (read.ok && !bytes.includes(Buffer.from('\ufffd'))) expect(read.text).not.toContain('\ufffd');
      }),
      { numRuns: 2_000 },
    );
  });
});

describe('rows, on any text', () => {
  const header = resolveHeader({ line: 1, fields: ['email', 'course_name', 'name', 'action', 'status'] });

  it('a row never throws; a valid command holds no character a text field may not hold; every error is short and storable', () => {
    fc.assert(
      fc.property(fc.array(anyText, { minLength: 0, maxLength: 7 }), fc.constantFrom('set', 'add') as fc.Arbitrary<'set' | 'add'>, (fields, mode) => {
        const row = toImportRow({ line: 2, fields }, header, mode);
        if ('command' in row) {
          const { student, courseName, name } = row.command;
          for (const text of ['email' in student ? student.email : '', courseName ?? '', name ?? '']) expect(invalidCharacterAt(text)).toBe(-1);
        } else {
          expect(row.errors.length).toBeGreaterThan(0);
          for (const e of row.errors) {
            expect(e.message.length).toBeLessThan(200);
            expect(invalidCharacterAt(e.message)).toBe(-1);
            if (e.value !== null) {
              expect(e.value.length).toBeLessThanOrEqual(501);
              expect(invalidCharacterAt(e.value)).toBe(-1);
            }
          }
        }
      }),
      { numRuns: 5_000 },
    );
  });

  it('a header never throws anything but a whole-file error, and its warnings stay few and short', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(anyText, fc.constantFrom('email', 'course_name', 'team_id', 'EMAIL ')), { maxLength: 30 }), (fields) => {
        try {
          const h = resolveHeader({ line: 1, fields });
          expect(h.warnings.length).toBeLessThanOrEqual(12);
          for (const w of h.warnings) expect(w.length).toBeLessThan(300);
        } catch (err) {
          expect(err).toBeInstanceOf(ImportFileError);
          expect((err as Error).message.length).toBeLessThan(1_000);
        }
      }),
      { numRuns: 3_000 },
    );
  });

  it('the JSON and CSV rules agree: a value refused in a row is refused in a body', () => {
    fc.assert(
      fc.property(anyText, (name) => {
        const row = parseEnrollmentFields({ email: 'a@x.edu', course_name: 'Art', name }, 'set');
        const refused = !row.ok && row.errors.some((e) => e.code === 'invalid_character');
        expect(refused).toBe(invalidCharacterAt(name) !== -1);
      }),
      { numRuns: 3_000 },
    );
  });
});

describe('the legacy tools\' arguments, any argv', () => {
  const tool: LegacyTool = { name: 'backfill-enrollments', verb: 'backfill', options: ['json', 'help', 'commit', 'batch-size'], usage: '', help: '' };
  const arg = fc.oneof(anyText, fc.constantFrom('--json', '--commit', '--help', '-h', '--batch-size', '--batch-size=0', '--batch-size=100001', '--batch-size=5e3', '--', '-', '--nope'));

  it('parse to run, help or one error line: never a throw, never a batch size out of 1..100,000', () => {
    fc.assert(
      fc.property(fc.array(arg, { maxLength: 6 }), (argv) => {
        const parsed = parseToolArgs(argv, tool);
        if (parsed.kind === 'run') expect(parsed.args.batchSize).toBeGreaterThanOrEqual(1);
        if (parsed.kind === 'run') expect(parsed.args.batchSize).toBeLessThanOrEqual(100_000);
        if (parsed.kind === 'error') expect(parsed.message.length).toBeGreaterThan(0);
      }),
      { numRuns: 3_000 },
    );
  });
});
