import { CsvError, Parser } from 'csv-parse';

/**
 * Reads CSV records (CONTRACT §3) from a stream of chunks with csv-parse: UTF-8 with or without
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
  bom: true,
  relax_quotes: true,
  relax_column_count: true,
  skip_empty_lines: true,
  record_delimiter: ['\r\n', '\n'],
  max_record_size: MAX_RECORD_BYTES,
};

/**
 * Streams the records of a CSV file in order, each with its first line number, in arrays (all the
 * records that end in one input chunk). csv-parse's core is driven directly, chunk by chunk,
 * without its stream wrapper: a record costs no stream push and no promise. It calls `push`
 * synchronously while it parses, so at that moment its `info` is exact: the number of empty lines
 * it skipped before this record.
 */
export async function* readCsvRecordBatches(chunks: AsyncIterable<Buffer>): AsyncGenerator<CsvRecord[]> {
  const core = (new Parser(PARSE_OPTIONS) as unknown as { api: CsvParseCore }).api;
  let nextLine = 1;
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
  for await (const chunk of sniffed(chunks)) {
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
