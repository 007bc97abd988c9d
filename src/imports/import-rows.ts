import type { EnrollmentCommand } from '../domain/enrollment.js';
import { parseEnrollmentFields, printable, type FieldError, type RawEnrollmentFields } from '../domain/validation.js';
import { ImportFileError, readCsvRecordBatches, type CsvRecord } from './csv-reader.js';

/**
 * From CSV records to enrollment commands (CONTRACT §3): the header names the columns
 * (case-insensitive, trimmed), each later record becomes a command or a list of row errors.
 */

/** A row error with its file line; `column` is null when it concerns the whole row. */
export type RowError = Omit<FieldError, 'column'> & { column: string | null; line: number };

/** One data row: a command to apply in file order, or why it is skipped. */
export type ImportRow = { line: number; command: EnrollmentCommand } | { line: number; errors: RowError[] };

const REQUIRED = ['email', 'course_name'] as const;
const OPTIONAL = ['name', 'action', 'status'] as const;
const LEGACY = new Set(['team_id', 'team_name', 'team_number']);
type Known = (typeof REQUIRED)[number] | (typeof OPTIONAL)[number];

/** Where each known column is (-1 when absent), how many fields a row has, and the warnings. */
export type ImportHeader = { width: number; index: Record<Known, number>; warnings: string[] };

/** Warnings kept for unknown columns: the first few, then one line counting the rest (a 1 MB header made 500,000). */
export const MAX_COLUMN_WARNINGS = 10;
/** Characters of a column name quoted in a warning or an error. */
const COLUMN_NAME_CHARS = 100;

/**
 * Resolves the header record; a missing required or repeated column fails the whole file, and so
 * does a NUL in it: a header with NUL bytes is not CSV text (a binary file, or UTF-16 without a
 * byte-order mark), whereas a NUL in a data row is only that row's `invalid_character`.
 */
export function resolveHeader(record: CsvRecord): ImportHeader {
  if (record.fields.some((f) => f.includes('\u0000'))) {
    throw new ImportFileError('not_csv', `the header (line ${record.line}) holds NUL bytes: the file is not CSV text (a binary file, or UTF-16?)`);
  }
  const index: Record<Known, number> = { email: -1, course_name: -1, name: -1, action: -1, status: -1 };
  const warnings: string[] = [];
  const legacy: string[] = [];
  let unknown = 0;
  record.fields.forEach((raw, i) => {
    const name = raw.trim().toLowerCase();
    if (name in index) {
      if (index[name as Known] !== -1) throw new ImportFileError('duplicate_column', `the header names the column "${name}" twice`);
      index[name as Known] = i;
    } else if (LEGACY.has(name)) {
      // The team columns together get one warning (CONTRACT §3), at the place of the first one.
      if (!legacy.length) warnings.push('');
      // Named once each, however often the header repeats them.
      if (!legacy.some((c) => c.toLowerCase() === name)) legacy.push(raw.trim());
    } else if (++unknown <= MAX_COLUMN_WARNINGS) {
      warnings.push(`unknown column "${printable(raw.trim(), COLUMN_NAME_CHARS)}" is ignored`);
    }
  });
  if (legacy.length) {
    const list = legacy.map((c) => `"${c}"`).join(', ');
    warnings[warnings.indexOf('')] = `legacy column${legacy.length > 1 ? 's' : ''} ${list} ${legacy.length > 1 ? 'are' : 'is'} ignored (teams were removed)`;
  }
  if (unknown > MAX_COLUMN_WARNINGS) warnings.push(`${unknown - MAX_COLUMN_WARNINGS} more unknown columns are ignored`);
  const missing = REQUIRED.filter((c) => index[c] === -1);
  if (missing.length) {
    const seen = record.fields.slice(0, 10).map((f) => JSON.stringify(f.slice(0, 40))).join(', ');
    throw new ImportFileError(
      'missing_columns',
      `the header (line ${record.line}) lacks the required column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}; ` +
        `it has ${seen}${record.fields.length > 10 ? ', …' : ''} (is this a CSV roster with a header row?)`,
    );
  }
  return { width: record.fields.length, index, warnings };
}

/** Turns one data record into a command or row errors. */
export function toImportRow(record: CsvRecord, header: ImportHeader, mode: 'set' | 'add'): ImportRow {
  const { fields, line } = record;
  if (fields.length !== header.width) {
    return {
      line,
      errors: [{ line, column: null, code: 'field_count', message: `expected ${header.width} fields, got ${fields.length}`, value: joinedExcerpt(fields) }],
    };
  }
  const { index } = header;
  const raw: RawEnrollmentFields = {
    email: fields[index.email],
    course_name: fields[index.course_name],
    name: index.name === -1 ? undefined : fields[index.name],
    action: index.action === -1 ? undefined : fields[index.action],
    status: index.status === -1 ? undefined : fields[index.status],
  };
  const parsed = parseEnrollmentFields(raw, mode);
  if (parsed.ok) return { line, command: parsed.command };
  return { line, errors: parsed.errors.map((e) => ({ ...e, value: e.value === null ? null : printable(e.value, MAX_VALUE_CHARS), line })) };
}

/** Characters of the offending value a row error keeps (its message quotes fewer). */
export const MAX_VALUE_CHARS = 500;

/** The row's fields joined by commas, as a stored row error's value: cut at MAX_VALUE_CHARS without joining a huge row first. */
function joinedExcerpt(fields: string[]): string {
  let out = '';
  for (let i = 0; i < fields.length && out.length <= MAX_VALUE_CHARS; i++) out += (i ? ',' : '') + fields[i]!.slice(0, MAX_VALUE_CHARS + 1);
  return printable(out, MAX_VALUE_CHARS);
}

/**
 * The header, then the data records of a file in batches (as the CSV reader makes them), in order:
 * a consumer takes a million records without a promise each. An empty file fails as a whole.
 */
export async function* readImportRecords(
  chunks: AsyncIterable<Buffer>,
): AsyncGenerator<{ header: ImportHeader } | { records: CsvRecord[] }> {
  let header: ImportHeader | null = null;
  for await (let records of readCsvRecordBatches(chunks)) {
    if (header === null && records.length) {
      header = resolveHeader(records[0]!);
      yield { header };
      records = records.slice(1);
    }
    if (records.length) yield { records };
  }
  if (header === null) throw new ImportFileError('empty_file', 'the file is empty: it needs a header row with email and course_name');
}
