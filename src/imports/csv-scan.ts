import { isUtf8 } from 'node:buffer';
import { ImportFileError } from './csv-reader.js';

/**
 * A fast whole-file syntax check, run before anything is applied: does csv-parse (with the
 * options of csv-reader.ts: relax_quotes, `\r\n` or `\n`, max_record_size) read this file to its
 * end? With relax_quotes it fails only on a quote left open at the end of the file or on an
 * over-long record, so a byte-level quote state machine answers exactly that, ~20x faster than
 * parsing. It also counts non-blank lines outside quotes: the row total, estimated until the import
 * ends (whitespace-only lines are counted here but skipped by the reader). And it checks that every
 * byte is UTF-8 (`not_utf8`, with the line): the reader would turn other bytes into U+FFFD, and a
 * Latin-1 `José` would be stored as `Jos\uFFFD`.
 *
 * Between quotes, where a roster spends nearly all its bytes, lines are found and UTF-8 checked by
 * Node's native helpers (`indexOf`, `isUtf8`); quoted fields, and any stretch that fails the native
 * check (to name the line of the bad byte), go byte by byte. Both ways agree exactly
 * (test/imports-scan.test.ts); the byte-by-byte way alone took about 1 s of the API's thread for a
 * 48 MiB file.
 */

const QUOTE = 0x22;
/** A quote-free stretch shorter than this is not worth the native helpers; then BYTEWISE_RUN bytes go byte by byte. */
const SHORT_STRETCH = 64;
const BYTEWISE_RUN = 4096;
const COMMA = 0x2c;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;

export type CsvScanner = { push(chunk: Buffer): void; end(): { records: number }; recordsSoFar(): number };

/**
 * `maxRecordBytes` must not exceed csv-reader's max_record_size, so that what passes here parses
 * there. `bytewise`: every byte by the state machine (the reference the tests compare with).
 */
export function createCsvScanner(maxRecordBytes: number, { bytewise = false } = {}): CsvScanner {
  let quoting = false;
  let fieldStart = true;
  let pendingQuote = false; // a quote inside quotes at the end of the previous chunk
  let line = 1;
  let openedAt = 0;
  let recordBytes = 0;
  let content = false;
  let records = 0;
  // UTF-8: continuation bytes still expected, and the range the next one must be in (this rules
  // out overlong forms, surrogates and code points past U+10FFFF, as a strict decoder does).
  let need = 0;
  let low = 0x80;
  let high = 0xbf;

  const notUtf8 = () =>
    new ImportFileError(
      'not_utf8',
      `the file is not UTF-8: line ${line} holds bytes that are not UTF-8 (a Latin-1 or Windows-1252 export?); save it as UTF-8 (in Excel: "CSV UTF-8")`,
    );
  /** One byte of the UTF-8 check (called only for bytes >= 0x80 or inside a sequence). */
  const utf8 = (b: number) => {
    if (need > 0) {
      if (b < low || b > high) throw notUtf8();
      need--;
      low = 0x80;
      high = 0xbf;
    } else if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) low = 0xa0;
      else if (b === 0xed) high = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) low = 0x90;
      else if (b === 0xf4) high = 0x8f;
    } else throw notUtf8();
  };

  const tooLong = () =>
    new ImportFileError('csv_syntax', `the file is not valid CSV: the record at line ${line} is longer than ${maxRecordBytes} bytes`);

  // The first bytes wait until there are three, to recognise a BOM split across chunks.
  let head: Buffer | null = Buffer.alloc(0);
  const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

  const scan = (chunk: Buffer) => {
    let i = 0;
    if (pendingQuote) {
      pendingQuote = false;
      if (chunk[i] === QUOTE) i++; // an escaped quote: still quoting
      else quoting = false;
    }
    const n = chunk.length;
    if (bytewise) byBytes(chunk, i, n);
    else
      while (i < n) {
        const next = quoting || need > 0 ? i : quoteFree(chunk, i);
        if (next < 0) i = byBytes(chunk, i, -next); // a stretch the native check refused
        else if (next >= n) i = n;
        // A quote: its field byte by byte until it closes. After a short quote-free stretch, quotes
        // are dense (a quoted field on every line, or a hostile file of quotes): stay byte by byte
        // for a while, since a native call per few bytes costs more than the bytes.
        else i = byBytes(chunk, next, next - i < SHORT_STRETCH ? next + BYTEWISE_RUN : next + 1);
      }
    // Bytes inside quotes are checked for length here, and at the first byte after the quote.
    if (recordBytes > maxRecordBytes) throw tooLong();
  };

  /** The state machine over chunk[i…], at least to `until` and on until no quote or character is open; returns where it stopped. */
  const byBytes = (chunk: Buffer, i: number, until: number): number => {
    const n = chunk.length;
    for (; i < n && (i < until || quoting || need > 0); i++) {
      const b = chunk[i]!;
      if (b >= 0x80 || need > 0) utf8(b);
      recordBytes++;
      if (quoting) {
        if (b === QUOTE) {
          if (i + 1 === n) pendingQuote = true;
          else if (chunk[i + 1] === QUOTE) i++;
          else quoting = false;
        } else if (b === LF) line++;
        continue;
      }
      if (b === LF) {
        if (content) records++;
        content = false;
        fieldStart = true;
        recordBytes = 0;
        line++;
      } else if (b === COMMA) {
        fieldStart = true;
        content = true;
      } else if (b === QUOTE && fieldStart) {
        quoting = true;
        openedAt = line;
        fieldStart = false;
        content = true;
      } else {
        fieldStart = false;
        if (b !== CR && b !== SPACE && b !== TAB) content = true;
      }
      if (recordBytes > maxRecordBytes) throw tooLong();
    }
    return i;
  };

  /**
   * The bytes from i (outside quotes, between characters) to the next quote, or to the chunk's
   * end but a character it cuts: their lines counted, as byBytes would. Returns where the quote
   * or the cut character starts, or -end when the stretch is not UTF-8 (for byBytes to find where).
   */
  const quoteFree = (chunk: Buffer, i: number): number => {
    const quote = chunk.indexOf(QUOTE, i);
    const end = quote === -1 ? wholeCharacters(chunk, i) : quote;
    if (end > i && !isUtf8(chunk.subarray(i, end))) return -end;
    let from = i;
    for (let lf = chunk.indexOf(LF, from); lf !== -1 && lf < end; lf = chunk.indexOf(LF, from)) {
      if (lf > from && recordBytes + (lf - from) > maxRecordBytes) throw tooLong();
      if (content || hasContent(chunk, from, lf)) records++;
      content = false;
      fieldStart = true;
      recordBytes = 0;
      line++;
      from = lf + 1;
    }
    if (from < end) {
      recordBytes += end - from;
      content ||= hasContent(chunk, from, end);
      fieldStart = chunk[end - 1] === COMMA;
      if (recordBytes > maxRecordBytes) throw tooLong();
    }
    return end;
  };

  return {
    push(chunk) {
      if (head === null) return scan(chunk);
      head = Buffer.concat([head, chunk]);
      if (head.length < 3) return;
      const start = head;
      head = null;
      scan(start.subarray(0, 3).equals(BOM) ? start.subarray(3) : start);
    },
    recordsSoFar: () => records,
    end() {
      if (head !== null) {
        const start = head;
        head = null;
        scan(start);
      }
      if (need > 0) throw notUtf8(); // a sequence cut short by the end of the file
      if (pendingQuote) quoting = false;
      if (quoting) throw new ImportFileError('csv_syntax', `the file is not valid CSV: the quote opened at line ${openedAt} is never closed`);
      if (content) records++;
      return { records };
    },
  };
}

/** Whether bytes from..to hold more than whitespace (a line of only spaces, tabs and `\r` is blank). */
function hasContent(chunk: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const b = chunk[i]!;
    if (b !== CR && b !== SPACE && b !== TAB) return true;
  }
  return false;
}

/** Where the chunk's last whole character ends, from `from` on: the end, or the start of a multi-byte character it cuts. */
function wholeCharacters(chunk: Buffer, from: number): number {
  const n = chunk.length;
  for (let back = 1; back <= 3 && n - back >= from; back++) {
    const b = chunk[n - back]!;
    if (b < 0x80) return n;
    if (b >= 0xc0) return back < (b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2) ? n - back : n;
  }
  return n;
}

/** What the scan of a whole file found: its records (the header included), or the syntax error that fails it. */
export type FileScan = { records: number } | { error: { code: ImportFileError['code']; message: string } };

/** The rows a scanned file holds: the header line is not a row. */
export function rowsOf(scan: { records: number }): number {
  return Math.max(0, scan.records - 1);
}

/**
 * Scans a file as it streams past (an upload): `push` never throws; after a syntax error it stops
 * scanning, and `end()` reports the error instead of the records.
 */
export function createFileScan(maxRecordBytes: number): { push(chunk: Buffer): void; recordsSoFar(): number; end(): FileScan } {
  const scanner = createCsvScanner(maxRecordBytes);
  let failed: FileScan | null = null;
  const guarded = <T>(fn: () => T): T | undefined => {
    try {
      return fn();
    } catch (err) {
      if (!(err instanceof ImportFileError)) throw err;
      failed = { error: { code: err.code, message: err.message } };
      return undefined;
    }
  };
  return {
    push(chunk) {
      if (!failed) guarded(() => scanner.push(chunk));
    },
    recordsSoFar: () => scanner.recordsSoFar(),
    end() {
      const records = failed ? undefined : guarded(() => scanner.end().records);
      return records === undefined ? failed! : { records };
    },
  };
}
