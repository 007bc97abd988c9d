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
  /** Rows in `copy`: the valid ones, and the invalid ones that name a pair. */
  staged: number;
  /** The staged rows as the UTF-8 text of a COPY. */
  copy: Buffer;
  /** The row errors of the invalid rows, in file order. */
  errors: RowError[];
};

/** `names`: stage the email and course of invalid rows whose email and course are valid (a sync's sweep). */
export type BatchOptions = { mode: 'set' | 'add'; skip: number; size: number; names?: boolean };

/** A row invalid for another reason, but whose email and course name are valid: it still names its pair. */
type NamedRow = { line: number; email: string; courseName: string };

/**
 * Splits the file's rows into staged batches of `size` rows, after skipping the first `skip`
 * (already applied). `spare`, when given, hands back the memory of a batch its consumer is done
 * with, for the next batch to write into.
 */
export async function* stagedBatches(chunks: AsyncIterable<Buffer>, opts: BatchOptions, spare: () => ArrayBuffer | undefined = () => undefined): AsyncGenerator<StagedBatch> {
  let header: ImportHeader | null = null;
  let skip = opts.skip;
  let batch = new BatchBuilder(spare());
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
      batch.add(row);
      if (opts.names && 'errors' in row) {
        const pair = pairOf(record, header!);
        if (pair) batch.addNamed(pair);
      }
      if (batch.rows >= opts.size) {
        yield batch.take();
        batch = new BatchBuilder(spare());
      }
    }
  }
  if (batch.rows) yield batch.take();
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
  const batch = new BatchBuilder();
  for (const row of rows) batch.add(row);
  for (const n of named) batch.addNamed(n);
  return batch.take();
}

/**
 * A staged batch built a row at a time: each row is written as its COPY line into a buffer as it
 * is added, so that nothing of a row outlives it on the heap (its objects die young; the text is
 * off the heap, and a parser thread hands the buffer over without a copy). Holding rows or their
 * text as strings until the batch was complete made garbage collection half of parsing.
 */
class BatchBuilder {
  rows = 0;
  private readonly copy: CopyBuffer;
  private named: CopyBuffer | null = null;
  private readonly errors: RowError[] = [];

  constructor(memory?: ArrayBuffer) {
    this.copy = new CopyBuffer(memory);
  }

  add(row: ImportRow): void {
    this.rows++;
    if ('errors' in row) {
      for (const e of row.errors) this.errors.push(e);
      return;
    }
    const { student, name, courseName, action } = row.command;
    if (!('email' in student) || courseName === undefined) throw new Error(`line ${row.line}: an import row needs an email and a course`);
    this.copy.write(`${row.line}\t${copyField(student.email)}\t${name === undefined ? '\\N' : copyField(name)}\t${copyField(courseName)}\t${action}\tt\n`);
  }

  addNamed(n: NamedRow): void {
    (this.named ??= new CopyBuffer()).write(`${n.line}\t${copyField(n.email)}\t\\N\t${copyField(n.courseName)}\tadd\tf\n`);
  }

  take(): StagedBatch {
    // The valid rows are the lines written so far; the named ones follow them.
    const valid = this.copy.lines;
    if (this.named) this.copy.append(this.named);
    return { rows: this.rows, valid, staged: valid + (this.named?.lines ?? 0), copy: this.copy.bytes(), errors: this.errors };
  }
}

/** UTF-8 text written line by line into a buffer of its own (never a slice of Node's shared pool, so that it can be transferred). */
class CopyBuffer {
  lines = 0;
  private buf: Buffer;
  private length = 0;

  constructor(memory?: ArrayBuffer) {
    this.buf = memory ? Buffer.from(memory) : Buffer.allocUnsafeSlow(256 * 1024);
  }

  write(line: string): void {
    this.lines++;
    // A UTF-16 code unit is at most 3 bytes of UTF-8.
    this.reserve(line.length * 3);
    this.length += this.buf.write(line, this.length);
  }

  /** Appends another buffer's text (its lines are not counted here). */
  append(other: CopyBuffer): void {
    this.reserve(other.length);
    this.length += other.buf.copy(this.buf, this.length, 0, other.length);
  }

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.buf.length) return;
    const bigger = Buffer.allocUnsafeSlow(Math.max(this.buf.length * 2, this.length + bytes));
    this.buf.copy(bigger, 0, 0, this.length);
    this.buf = bigger;
  }

  bytes(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}

/** COPY's text format: backslash, tab and line breaks are escaped. */
const copyField = (s: string) => (SPECIAL.test(s) ? s.replace(SPECIALS, (c) => ESCAPES[c]!) : s);
const SPECIAL = /[\\\t\n\r]/;
const SPECIALS = /[\\\t\n\r]/g;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
