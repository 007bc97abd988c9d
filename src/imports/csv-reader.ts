import { CsvError, Parser } from 'csv-parse';

/**
 * Reads CSV records (CONTRACT §3) from a stream of chunks: UTF-8 with or without
 * BOM, `\n` or `\r\n`, RFC 4180 quotes (fields with commas, quotes and line breaks). Each record
 * comes with the file line it starts on (line 1 is the first line of the file), counted here from
 * the records themselves rather than from csv-parse's own counter, which counts a `\r\n` inside a
 * quoted field twice. Blank and whitespace-only lines are skipped.
 */

/** A whole-file problem: the import fails and applies nothing. */
export class ImportFileError extends Error {
  override name = 'ImportFileError';
  constructor(
    readonly code: 'empty_file' | 'not_csv' | 'not_utf8' | 'missing_columns' | 'duplicate_column' | 'csv_syntax',
    message: string,
  ) {
    super(message);
  }
}

/** One record: the line it starts on and its raw fields. */
export type CsvRecord = { line: number; fields: string[] };

/** A record longer than this is not a roster row: the file is not what it claims to be. */
export const MAX_RECORD_BYTES = 1024 * 1024;
/** Leading bytes checked for binary content. */
const SNIFF_BYTES = 64 * 1024;

/** The synchronous core of csv-parse (what its stream `Parser` calls per chunk); not in its typings. */
type CsvParseCore = {
  info: { empty_lines: number };
  parse(buf: Buffer | undefined, end: boolean, push: (record: string[]) => void, close: () => void): Error | undefined;
};

const PARSE_OPTIONS = {
  relax_quotes: true,
  relax_column_count: true,
  skip_empty_lines: true,
  record_delimiter: ['\r\n', '\n'],
  max_record_size: MAX_RECORD_BYTES,
};

/**
 * Streams the records of a CSV file in order, each with its first line number, in arrays (all the
 * records that end in one input chunk). While the text holds no quote character a record is one
 * line, and lines are split here, several times faster than csv-parse reads them; from the first
 * run of lines with a quote (or a line near the size limit) on, csv-parse reads the rest of the
 * file (csvParseBatches). The records are the same either way (test/imports-csv-reader.test.ts).
 */
export async function* readCsvRecordBatches(chunks: AsyncIterable<Buffer>): AsyncGenerator<CsvRecord[]> {
  const input = sniffed(chunks)[Symbol.asyncIterator]();
  let carry: Buffer = Buffer.alloc(0);
  let line = 1;
  let start = true;
  for (;;) {
    const next = await input.next();
    let buf = next.done ? carry : carry.length ? Buffer.concat([carry, next.value]) : next.value;
    if (start) {
      if (!next.done && buf.length < 3) {
        carry = buf;
        continue;
      }
      if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) buf = buf.subarray(3);
      start = false;
    }
    // The complete lines of what has arrived; the rest waits for the next chunk (all of it at the end).
    const end = next.done ? buf.length : buf.lastIndexOf(10) + 1;
    const lines = buf.subarray(0, end);
    carry = buf.subarray(end);
    if (lines.includes(QUOTE) || (lines.length > MAX_RECORD_BYTES - 8 && longestLine(lines) > MAX_RECORD_BYTES - 8) || carry.length > MAX_RECORD_BYTES) {
      yield* csvParseBatches(prepend(Buffer.concat([lines, carry]), next.done ? null : input), { line, bom: false });
      return;
    }
    const records = splitLines(lines.toString('utf8'), line);
    line = records.next;
    if (records.out.length) yield records.out;
    if (next.done) return;
  }
}

const QUOTE = 0x22;

/** Records of text without quotes: one per line, fields split at commas, a `\r` before the `\n` dropped. */
function splitLines(text: string, first: number): { out: CsvRecord[]; next: number } {
  const out: CsvRecord[] = [];
  const lines = text.split('\n');
  // Text that ends with a line break has an empty string after it, which is no line.
  const n = lines.at(-1) === '' ? lines.length - 1 : lines.length;
  let line = first;
  for (let i = 0; i < n; i++) {
    let l = lines[i]!;
    // The last line of the file may end without a line break: a `\r` there is its own.
    if (i < lines.length - 1 && l.charCodeAt(l.length - 1) === 13) l = l.slice(0, -1);
    const here = line;
    // A `\r` left in a line is a line break of its own, as lineBreaksIn counts it.
    line += 1 + (l.indexOf('\r') === -1 ? 0 : l.split('\r').length - 1);
    if (l.length === 0) continue;
    const fields = l.split(',');
    if (!isBlank(fields)) out.push({ line: here, fields });
  }
  return { out, next: line };
}

/** The length in bytes of the longest line. */
function longestLine(bytes: Buffer): number {
  let longest = 0;
  for (let from = 0; from < bytes.length; ) {
    const nl = bytes.indexOf(10, from);
    const to = nl === -1 ? bytes.length : nl + 1;
    longest = Math.max(longest, to - from);
    from = to;
  }
  return longest;
}

async function* prepend(head: Buffer, rest: AsyncIterator<Buffer> | null): AsyncGenerator<Buffer> {
  if (head.length) yield head;
  if (!rest) return;
  for (let next = await rest.next(); !next.done; next = await rest.next()) yield next.value;
}

/**
 * csv-parse's reading of the records, from a record that starts on line `from.line` (`bom`: a
 * byte-order mark there is dropped, as at the file's start). Its core is driven directly, chunk by chunk, without
 * its stream wrapper: a record costs no stream push and no promise. It calls `push` synchronously
 * while it parses, so at that moment its `info` is exact: the number of empty lines it skipped
 * before this record.
 */
export async function* csvParseBatches(chunks: AsyncIterable<Buffer>, from = { line: 1, bom: true }): AsyncGenerator<CsvRecord[]> {
  const core = (new Parser({ ...PARSE_OPTIONS, bom: from.bom }) as unknown as { api: CsvParseCore }).api;
  let nextLine = from.line;
  let emptySeen = 0;
  let out: CsvRecord[] = [];
  const push = (fields: string[]) => {
    const emptyLines = core.info.empty_lines;
    const line = nextLine + (emptyLines - emptySeen);
    emptySeen = emptyLines;
    nextLine = line + 1 + lineBreaksIn(fields);
    if (!isBlank(fields)) out.push({ line, fields });
  };
  const close = () => {};
  const fail = (err: Error) => {
    if (err instanceof CsvError) {
      return new ImportFileError('csv_syntax', `the file is not valid CSV after line ${nextLine - 1}: ${err.message}`);
    }
    return err;
  };
  for await (const chunk of chunks) {
    const err = core.parse(chunk, false, push, close);
    if (err) throw fail(err);
    if (out.length) {
      const records = out;
      out = [];
      yield records;
    }
  }
  const err = core.parse(undefined, true, push, close);
  if (err) throw fail(err);
  if (out.length) yield out;
}

/** Streams the records of a CSV file in order, each with its first line number. */
export async function* readCsvRecords(chunks: AsyncIterable<Buffer>): AsyncGenerator<CsvRecord> {
  for await (const records of readCsvRecordBatches(chunks)) yield* records;
}

/** Line breaks inside quoted fields (`\r\n` counts once, as editors count it). */
function lineBreaksIn(fields: string[]): number {
  let n = 0;
  for (const f of fields) {
    if (f.indexOf('\n') === -1 && f.indexOf('\r') === -1) continue;
    for (let i = 0; i < f.length; i++) {
      const ch = f.charCodeAt(i);
      if (ch === 10 || (ch === 13 && f.charCodeAt(i + 1) !== 10)) n++;
    }
  }
  return n;
}

const isBlank = (fields: string[]) => fields.length === 1 && fields[0]!.trim() === '';

/**
 * Passes chunks through, refusing a file that is not text at all: UTF-16 (by its byte-order mark),
 * or a binary file, whose first 64 KiB hold NUL bytes and bytes that are not UTF-8. Text that is
 * only partly wrong is not refused here: bytes that are not UTF-8 anywhere are the whole-file scan's
 * `not_utf8` (csv-scan.ts, with the line), and a NUL or another control character in a data field is
 * that row's `invalid_character` (a NUL in the header: import-rows.ts).
 */
async function* sniffed(chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let first = true;
  for await (const chunk of chunks) {
    if (first && chunk.length > 0) {
      first = false;
      const head = chunk.subarray(0, SNIFF_BYTES);
      if ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff)) {
        throw new ImportFileError('not_utf8', 'the file is UTF-16 text: save it as UTF-8 (in Excel: "CSV UTF-8")');
      }
      if (head.includes(0) && !isUtf8Start(head)) {
        throw new ImportFileError('not_csv', 'the file is not CSV text: it holds NUL bytes and bytes that are not UTF-8 (a binary file?)');
      }
    }
    yield chunk;
  }
}

/** Whether `head` is UTF-8, allowing a sequence cut short at its end. */
function isUtf8Start(head: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: true });
    return true;
  } catch {
    return false;
  }
}
