import type { Orm } from '../db/orm.js';
import { valueOf, type ChangeView, type HistoryItemView } from './change.model.js';
import { FIRST_CHANGE, listJobChanges, studentHistory, type ChangeCursor, type ChangeFilter, type ChangeRecord, type HistoryKey } from './change.repository.js';

/**
 * Pages of a job's changes and of a student's history (CONTRACT §6). A change's `seq` is its
 * position in its job's list (1, 2, …): the cursor carries the position reached, so that a page
 * costs an index range, never a count of what came before.
 */

/** Where the next page starts: the key of the last change returned and its position. */
export type ChangePosition = ChangeCursor & { n: number };
export const START: ChangePosition = { ...FIRST_CHANGE, n: 0 };

export function encodeChangeCursor(p: ChangePosition): string {
  return Buffer.from(JSON.stringify([p.line, p.ord, p.tb, p.n])).toString('base64url');
}

/** The position a cursor of ours stands for, or undefined for anything else. */
export function decodeChangeCursor(cursor: string): ChangePosition | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (!Array.isArray(value) || value.length !== 4) return undefined;
    const [line, ord, tb, n] = value as unknown[];
    const int = (x: unknown) => Number.isSafeInteger(x) && (x as number) >= -1;
    if (!(line === null || int(line)) || !int(ord) || !int(tb) || !int(n)) return undefined;
    const p = { line: line as number | null, ord: ord as number, tb: tb as number, n: n as number };
    return encodeChangeCursor(p) === cursor ? p : undefined;
  } catch {
    return undefined;
  }
}

export type JobRef = { seq: number; previews: boolean };

const toView = (r: ChangeRecord, seq: number): ChangeView => ({
  seq,
  kind: r.kind,
  student_id: r.student_id === null ? null : Number(r.student_id),
  email: r.email,
  course_id: r.course_id === null ? null : Number(r.course_id),
  course_name: r.course_name,
  before: valueOf(r.kind, r.before),
  after: valueOf(r.kind, r.after),
  line: r.line,
});

/** One page of a job's changes from `from`; `next` is null on the last page. */
export async function jobChangesPage(
  orm: Orm,
  job: JobRef,
  from: ChangePosition,
  limit: number,
  filter: ChangeFilter,
): Promise<{ items: ChangeView[]; next: ChangePosition | null }> {
  const rows = await listJobChanges(orm, job, from, limit + 1, filter);
  const page = rows.slice(0, limit);
  const items = page.map((r, i) => toView(r, from.n + i + 1));
  const last = page.at(-1);
  const next = rows.length > limit && last ? { line: last.line, ord: last.ord, tb: Number(last.tb), n: from.n + page.length } : null;
  return { items, next };
}

/** Every change of a job, page by page (for the CSV download). */
export async function* allJobChanges(orm: Orm, job: JobRef, filter: ChangeFilter, pageSize: number): AsyncGenerator<ChangeView[]> {
  for (let from: ChangePosition | null = START; from; ) {
    const page = await jobChangesPage(orm, job, from, pageSize, filter);
    if (page.items.length) yield page.items;
    from = page.next;
  }
}

export function encodeHistoryCursor(key: HistoryKey): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** The history key a cursor of ours stands for, or undefined for anything else. */
export function decodeHistoryCursor(cursor: string): HistoryKey | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (!Array.isArray(value) || value.length !== 4) return undefined;
    const [at, line, ord, tb] = value as unknown[];
    const digits = (x: unknown) => typeof x === 'string' && /^\d{1,19}$/.test(x);
    if (!digits(at) || !Number.isSafeInteger(line) || !Number.isSafeInteger(ord) || !digits(tb)) return undefined;
    const key: HistoryKey = [at as string, line as number, ord as number, tb as string];
    return encodeHistoryCursor(key) === cursor ? key : undefined;
  } catch {
    return undefined;
  }
}

/** A page of a student's history, newest first, after the item whose key is `before`. */
export async function studentHistoryPage(orm: Orm, studentId: number, before: HistoryKey | null, limit: number): Promise<{ items: HistoryItemView[]; next: HistoryKey | null }> {
  const rows = await studentHistory(orm, studentId, before, limit + 1);
  const page = rows.slice(0, limit);
  const items = page.map((r) => ({
    kind: r.kind,
    student_id: r.student_id === null ? null : Number(r.student_id),
    email: r.email,
    course_id: r.course_id === null ? null : Number(r.course_id),
    course_name: r.course_name,
    before: valueOf(r.kind, r.before),
    after: valueOf(r.kind, r.after),
    line: r.line,
    job_id: r.job_id,
    job_type: r.job_type,
    at: new Date(r.at).toISOString(),
  }));
  return { items, next: rows.length > limit ? page.at(-1)!.key : null };
}
