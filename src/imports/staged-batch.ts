import { parseEnrollmentFields } from '../domain/validation.js';
import type { CsvRecord } from './csv-reader.js';
import { readImportRecords, toImportRow, type ImportHeader, type ImportRow, type RowError } from './import-rows.js';

/**
 * A batch of an import's rows, ready for PostgreSQL: its valid rows as the text of a COPY into the
 * import's stage table (line, email, name, course, action, valid), its invalid rows as row errors. Plain data,
 * so that it can be built in a parser thread and posted to the thread that writes.
 */
export type StagedBatch = {
  /** Rows consumed from the file: valid and invalid. */
  rows: number;
  valid: number;
  /** Rows in `copyText`: the valid ones, and the invalid ones that name a pair. */
  staged: number;
  copyText: string;
  /** The row errors of the invalid rows, in file order. */
  errors: RowError[];
};

/** `names`: stage the email and course of invalid rows whose email and course are valid (a sync's sweep). */
export type BatchOptions = { mode: 'set' | 'add'; skip: number; size: number; names?: boolean };

/** A row invalid for another reason, but whose email and course name are valid: it still names its pair. */
type NamedRow = { line: number; email: string; courseName: string };

/** Splits the file's rows into staged batches of `size` rows, after skipping the first `skip` (already applied). */
export async function* stagedBatches(chunks: AsyncIterable<Buffer>, opts: BatchOptions): AsyncGenerator<StagedBatch> {
  let header: ImportHeader | null = null;
  let skip = opts.skip;
  let batch: ImportRow[] = [];
  let named: NamedRow[] = [];
  for await (const item of readImportRecords(chunks)) {
    if ('header' in item) {
      header = item.header;
      continue;
    }
    for (const record of item.records) {
      if (skip > 0) {
        skip--;
        continue;
      }
      const row = toImportRow(record, header!, opts.mode);
      batch.push(row);
      if (opts.names && 'errors' in row) {
        const pair = pairOf(record, header!);
        if (pair) named.push(pair);
      }
      if (batch.length >= opts.size) {
        yield toStagedBatch(batch, named);
        batch = [];
        named = [];
      }
    }
  }
  if (batch.length) yield toStagedBatch(batch, named);
}

/** The email and course name of a record, when both are valid (whatever else the row holds). */
function pairOf(record: CsvRecord, header: ImportHeader): NamedRow | null {
  const email = record.fields[header.index.email];
  const course = record.fields[header.index.course_name];
  if (email === undefined || course === undefined) return null;
  const parsed = parseEnrollmentFields({ email, course_name: course }, 'add');
  if (!parsed.ok || !('email' in parsed.command.student)) return null;
  return { line: record.line, email: parsed.command.student.email, courseName: parsed.command.courseName! };
}

/** Stages parsed rows (an import's commands always name the student by email and a course), and the pairs `named` by invalid rows. */
export function toStagedBatch(rows: readonly ImportRow[], named: readonly NamedRow[] = []): StagedBatch {
  let copyText = '';
  let valid = 0;
  const errors: RowError[] = [];
  for (const row of rows) {
    if ('errors' in row) {
      for (const e of row.errors) errors.push(e);
      continue;
    }
    const { student, name, courseName, action } = row.command;
    if (!('email' in student) || courseName === undefined) throw new Error(`line ${row.line}: an import row needs an email and a course`);
    valid++;
    copyText += `${row.line}\t${copyField(student.email)}\t${name === undefined ? '\\N' : copyField(name)}\t${copyField(courseName)}\t${action}\tt\n`;
  }
  for (const n of named) copyText += `${n.line}\t${copyField(n.email)}\t\\N\t${copyField(n.courseName)}\tadd\tf\n`;
  return { rows: rows.length, valid, staged: valid + named.length, copyText, errors };
}

/** COPY's text format: backslash, tab and line breaks are escaped. */
const copyField = (s: string) => (SPECIAL.test(s) ? s.replace(SPECIALS, (c) => ESCAPES[c]!) : s);
const SPECIAL = /[\\\t\n\r]/;
const SPECIALS = /[\\\t\n\r]/g;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
