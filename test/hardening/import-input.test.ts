import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { truncateAll } from '../support/deps.js';
import { importCsv, rowErrors, rows, startImportRig, upload, type ImportRig } from './support.js';

/**
 * Issue 15 items 2-5, end to end (upload, scan, worker): hostile bytes in a CSV never fail an
 * import half-way, never damage data silently, and never blow up what a job reports.
 */

let rig: ImportRig;
beforeAll(async () => {
  rig = await startImportRig(50);
});
afterAll(() => rig.close());
beforeEach(() => truncateAll(rig.api));

const HEADER = 'name,email,course_name';
const csv = (lines: string[]) => `${[HEADER, ...lines].join('\n')}\n`;
const studentCount = async () => (await rig.sql<{ n: number }>(`select count(*)::int as n from students`))[0]!.n;

describe('a NUL or another control character in a field is a row error (item 2)', () => {
  it('a NUL at row 2,500 of 3,000 (past the first 64 KiB): that row is invalid_character, every other row is applied', async () => {
    const lines = rows(3_000);
    lines[2_499] = `Bad\u0000Name,bad@example.edu,Art`;
    const text = csv(lines);
    expect(text.indexOf('\u0000')).toBeGreaterThan(64 * 1024);
    const job = await importCsv(rig.app, text);
    expect(job.status).toBe('completed_with_errors');
    expect(job.counts).toMatchObject({ rows: 3_000, valid: 2_999, invalid: 1 });
    expect(await rowErrors(rig.app, job.id)).toEqual([
      { line: 2_501, column: 'name', code: 'invalid_character', message: 'name holds a control character (U+0000) at character 4', value: 'Bad␀Name' },
    ]);
    expect(await studentCount()).toBe(2_999);
  });

  it('a NUL in the first 64 KiB means the same: a row error, not a binary file', async () => {
    const job = await importCsv(rig.app, csv([...rows(2), 'Bo,bo\u0000@example.edu,Art', ...rows(2, 2)]));
    expect(job.status).toBe('completed_with_errors');
    expect(await rowErrors(rig.app, job.id)).toEqual([
      expect.objectContaining({ line: 4, column: 'email', code: 'invalid_character', value: 'bo␀@example.edu' }),
    ]);
    expect(await studentCount()).toBe(4);
  });

  it.each([
    ['\u0001', 'name', 'A\u0001,a@example.edu,Art', 'A␁'],
    ['ESC', 'course_name', 'A,a@example.edu,Art\u001b[31m', 'Art␛[31m'],
    ['DEL', 'email', 'A,a\u007f@example.edu,Art', 'a␡@example.edu'],
    ['a C1 control (U+0085)', 'name', 'A\u0085B,a@example.edu,Art', 'A\ufffdB'],
  ])('%s in %s: invalid_character with its line and column, never stored', async (_label, column, line, value) => {
    const job = await importCsv(rig.app, csv([line, 'Ok,ok@example.edu,Art']));
    expect(job.counts).toMatchObject({ valid: 1, invalid: 1 });
    expect(await rowErrors(rig.app, job.id)).toEqual([expect.objectContaining({ line: 2, column, code: 'invalid_character', value })]);
  });

  it('tabs and line breaks inside quoted fields stay fine', async () => {
    const job = await importCsv(rig.app, csv(['"Ana\tMaría\r\nLee",ana@example.edu,Art']));
    expect(job.status).toBe('completed');
  });

  it('a NUL in the header means the file is not CSV text (UTF-16 without a byte-order mark looks so): not_csv', async () => {
    const utf16 = Buffer.from(`${HEADER}\nA,a@example.edu,Art\n`, 'utf16le');
    const job = await importCsv(rig.app, utf16);
    expect(job).toMatchObject({ status: 'failed', error: { code: 'not_csv' } });
    expect(await studentCount()).toBe(0);
  });
});

describe('bytes that are not UTF-8 anywhere fail the file as a whole, with the line (item 3)', () => {
  it('a Latin-1 "José" at line 2,000 (past 64 KiB): not_utf8 naming line 2000, known at upload, nothing applied', async () => {
    const lines = rows(3_000);
    const before = Buffer.from(csv(lines.slice(0, 1_998)));
    const latin1 = Buffer.from('José,jose@example.edu,Art\n', 'latin1');
    const after = Buffer.from(`${lines.slice(1_999).join('\n')}\n`);
    const file = Buffer.concat([before, latin1, after]);
    expect(before.length).toBeGreaterThan(64 * 1024);
    const id = await upload(rig.app, file);
    // The upload-time scan found it before the 202: the worker fails the job without applying a batch.
    const [stored] = await rig.sql(`select payload->'scan' as scan from jobs where id = ?`, [id]);
    expect(stored.scan).toEqual({ error: { code: 'not_utf8', message: expect.stringContaining('line 2000') } });
    const job = await importCsv(rig.app, file);
    expect(job).toMatchObject({ status: 'failed', error: { code: 'not_utf8', message: expect.stringContaining('line 2000') } });
    expect(job.counts.valid).toBe(0);
    expect(await studentCount()).toBe(0);
  });

  it.each([
    ['a Latin-1 byte on line 2', Buffer.from(`${HEADER}\nJos\xe9,j@example.edu,Art\n`, 'latin1'), 'line 2'],
    ['an overlong encoding', Buffer.concat([Buffer.from(`${HEADER}\nA,a@example.edu,Art\nB`), Buffer.from([0xc0, 0xaf]), Buffer.from(',b@example.edu,Art\n')]), 'line 3'],
    ['an encoded surrogate', Buffer.concat([Buffer.from(`${HEADER}\nB`), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from(',b@example.edu,Art\n')]), 'line 2'],
    ['a sequence cut short at the end', Buffer.concat([Buffer.from(`${HEADER}\nA,a@example.edu,Art`), Buffer.from([0xe2, 0x82])]), 'line 2'],
    ['UTF-16 with its byte-order mark', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`${HEADER}\nA,a@example.edu,Art\n`, 'utf16le')]), 'UTF-16'],
  ])('%s: not_utf8 (%s)', async (_label, file, where) => {
    const job = await importCsv(rig.app, file);
    expect(job).toMatchObject({ status: 'failed', error: { code: 'not_utf8', message: expect.stringContaining(where) } });
    expect(await studentCount()).toBe(0);
  });

  it('a binary file is still not_csv', async () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
    expect((await importCsv(rig.app, png)).error).toMatchObject({ code: 'not_csv' });
  });
});

describe('row errors and warnings stay small whatever the file holds (items 4 and 5)', () => {
  it('a 100 KB "email" makes a short message; its value is cut at 500 characters', async () => {
    const job = await importCsv(rig.app, csv([`A,${'x'.repeat(100_000)},Art`, `B,b@example.edu,${'y'.repeat(100_000)}`, `C,c@example.edu,Art,${'z'.repeat(100_000)}`]));
    const errors = await rowErrors(rig.app, job.id);
    expect(errors.map((e) => e.code)).toEqual(['invalid_email', 'too_long', 'field_count']);
    for (const e of errors) {
      expect(e.message.length).toBeLessThan(200);
      expect(e.value!.length).toBeLessThanOrEqual(501);
    }
  });

  it('a file of 64 KiB invalid emails is reported row by row, and the worker lives on to the next import', async () => {
    const big = csv(Array.from({ length: 300 }, (_, i) => `S${i},${String(i).padEnd(64 * 1024, 'x')},Art`));
    const job = await importCsv(rig.app, big);
    expect(job).toMatchObject({ status: 'completed_with_errors', counts: { rows: 300, invalid: 300 } });
    const [size] = await rig.sql(`select max(length(message))::int as message, max(length(value))::int as value from job_errors where job_id = ?`, [job.id]);
    expect(size).toEqual({ message: expect.any(Number), value: 501 });
    expect(size.message).toBeLessThan(200);
    expect((await importCsv(rig.app, csv(rows(3)))).status).toBe('completed');
  });

  it('a header of 50,000 unknown columns gives the first 10 warnings and one counting the rest', async () => {
    const extra = Array.from({ length: 50_000 }, (_, i) => `extra_${i}`);
    const job = await importCsv(rig.app, `${[HEADER, ...extra].join(',')}\nA,a@example.edu,Art${','.repeat(50_000)}\n`);
    expect(job.status).toBe('completed');
    expect(job.warnings).toHaveLength(11);
    expect(job.warnings!.slice(0, 2)).toEqual(['unknown column "extra_0" is ignored', 'unknown column "extra_1" is ignored']);
    expect(job.warnings![10]).toBe('49990 more unknown columns are ignored');
    expect(JSON.stringify(job).length).toBeLessThan(4_000);
  });

  it('an unknown column name of 100 KB is quoted short', async () => {
    const job = await importCsv(rig.app, `${HEADER},${'q'.repeat(100_000)}\nA,a@example.edu,Art,\n`);
    expect(job.warnings![0]!.length).toBeLessThan(200);
  });
});
