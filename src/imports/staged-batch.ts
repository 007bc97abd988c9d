import { readImportRecords, toImportRow, type ImportHeader, type ImportRow, type RowError } from './import-rows.js';

/**
 * A batch of an import's rows, ready for PostgreSQL: its valid rows as the text of a COPY into
 * `import_stage` (line, email, name, course, action), its invalid rows as row errors. Plain data,
 * so that it can be built in a parser thread and posted to the thread that writes.
 */
export type StagedBatch = {
  /** Rows consumed from the file: valid and invalid. */
  rows: number;
  valid: number;
  copyText: string;
  /** The row errors of the invalid rows, in file order. */
  errors: RowError[];
};

export type BatchOptions = { mode: 'set' | 'add'; skip: number; size: number };

/** Splits the file's rows into staged batches of `size` rows, after skipping the first `skip` (already applied). */
export async function* stagedBatches(chunks: AsyncIterable<Buffer>, opts: BatchOptions): AsyncGenerator<StagedBatch> {
  let header: ImportHeader | null = null;
  let skip = opts.skip;
  let batch: ImportRow[] = [];
  for await (const item of readImportRecords(chunks)) {
    if ('header' in item) header = item.header;
    else if (skip > 0) skip--;
    else {
      batch.push(toImportRow(item.record, header!, opts.mode));
      if (batch.length >= opts.size) {
        yield toStagedBatch(batch);
        batch = [];
      }
    }
  }
  if (batch.length) yield toStagedBatch(batch);
}

/** Stages parsed rows (an import's commands always name the student by email and a course). */
export function toStagedBatch(rows: readonly ImportRow[]): StagedBatch {
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
    copyText += `${row.line}\t${copyField(student.email)}\t${name === undefined ? '\\N' : copyField(name)}\t${copyField(courseName)}\t${action}\n`;
  }
  return { rows: rows.length, valid, copyText, errors };
}

/** COPY's text format: backslash, tab and line breaks are escaped. */
const copyField = (s: string) => (SPECIAL.test(s) ? s.replace(SPECIALS, (c) => ESCAPES[c]!) : s);
const SPECIAL = /[\\\t\n\r]/;
const SPECIALS = /[\\\t\n\r]/g;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
