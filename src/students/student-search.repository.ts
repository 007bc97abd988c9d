import type pg from 'pg';
import type { PageRequest } from '../http/pagination.js';
import { ENROLLMENTS_LATERAL, scopeSql, STUDENT_COLUMNS, toRow, type RawStudentRow, type StudentScope } from './student-read.repository.js';
import { searchIndexExists } from './search-index.repository.js';
import type { StudentRow } from './student-view.js';

/**
 * `GET /students?q=` (issue 17): the students of a scope whose name or email holds `q`, any case,
 * in id order. Two ways, each with a bound on its work, so that no search costs a scan of a
 * million students:
 *
 * - A **window**: the next SCAN_WINDOW students of the scope after the cursor, in id order, are
 *   read and matched. A part common enough to fill a page is found there at once.
 * - The **trigram index** (students_search_trgm_idx, pg_trgm): for a part with three letters or
 *   digits in a row, the rest of the scope is searched through the index, which reads only the
 *   students holding its trigrams: a rare part (or one matching nobody) is found, or not, at once.
 *   A bulk load drops it while it runs (search-index.repository.ts): searches are windows then.
 *
 * Which first: the planner's estimate of the matches (from the column statistics) says whether a
 * part is rare (the index at once) or common (the window first, then the index for the rest).
 *
 * A part without three letters or digits in a row (`jo`, `a.`) cannot use the index: its page is
 * what the window found, and when the window ended before the page was full and before the end of
 * the scope, `resumeAfter` says where it stopped: the page is short (even empty) and its
 * `next_cursor` goes on from there.
 */

/** Students of the scope read per request by the window (about 10 ms of matching here). */
export const SCAN_WINDOW = 10_000;
/** Students the planner may expect to match for a part to go to the trigram index first (before any window). */
export const INDEX_FIRST = 5_000;
/** Index candidates taken per request when the scope filters them further (a course, `active`). */
export const INDEX_HITS = 10_000;

/** A search page: rows as listStudentPage returns them (limit + 1 at most), and where a short page's search stopped. */
export type SearchPage = { rows: StudentRow[]; resumeAfter: number | null };

/** The `like` pattern for "holds q": q with its wildcards and escape character escaped. */
export function containsPattern(q: string): string {
  return `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** Whether the trigram index can serve q: pg_trgm takes trigrams of words, so three letters or digits in a row. */
export function trigramSearchable(q: string): boolean {
  return /[\p{L}\p{N}]{3}/u.test(q);
}

/**
 * One search page of the students in `scope` holding `q` (see the module comment). Whether the
 * index is there is asked every time: a bulk load drops it while it runs (search-index.repository.ts).
 */
export async function searchStudentPage(client: pg.ClientBase, scope: StudentScope, q: string, page: PageRequest): Promise<SearchPage> {
  const pattern = containsPattern(q);
  const want = page.limit + 1;
  const indexed = trigramSearchable(q) && (await searchIndexExists(client));
  // A part the planner expects to be rare goes to the index at once: the window would only cost time.
  if (indexed && (await estimatedMatches(client, pattern)) <= INDEX_FIRST) return indexSearch(client, scope, pattern, page.afterId, want);
  const window = await scanWindow(client, scope, pattern, page.afterId, want);
  if (window.rows.length >= want || window.lastKey === null) return { rows: window.rows, resumeAfter: null };
  if (!indexed) return { rows: window.rows, resumeAfter: window.lastKey };
  const rest = await indexSearch(client, scope, pattern, window.lastKey, want - window.rows.length);
  return { rows: [...window.rows, ...rest.rows], resumeAfter: rest.resumeAfter };
}

/**
 * The planner's estimate of the students matching: from the column statistics' histograms (the
 * pattern is tried on their sample), so a part in fewer than about 1% of the students reads as
 * rare. Planning only: nothing is read.
 */
async function estimatedMatches(client: pg.ClientBase, pattern: string): Promise<number> {
  const { rows } = await client.query<{ 'QUERY PLAN': Array<{ Plan: { 'Plan Rows': number } }> }>(
    'explain (format json) select id from students where name ilike $1 or email ilike $1',
    [pattern],
  );
  return rows[0]!['QUERY PLAN'][0]!.Plan['Plan Rows'];
}

/**
 * The matches among the next SCAN_WINDOW keys the scope walks after `afterId` (`want` at most);
 * `lastKey`: the window's last key when the walk goes on past it (null at the end of the scope).
 */
async function scanWindow(client: pg.ClientBase, scope: StudentScope, pattern: string, afterId: number, want: number): Promise<{ rows: StudentRow[]; lastKey: number | null }> {
  // The window's end, from the walk alone (an index-only scan of ids): no row is matched for it.
  const walkParams: unknown[] = [];
  const walkOnly: StudentScope = scope.kind === 'course' ? { kind: 'course', course: scope.course } : { kind: 'all' };
  const walkSql = scopeSql(walkOnly, (value) => `$${walkParams.push(value)}`);
  const walkFrom = scope.kind === 'course' ? 'course_enrollments m' : 'students s';
  walkParams.push(afterId, SCAN_WINDOW);
  const bound = await client.query<{ n: number; last: string | null }>(
    `select count(*)::int as n, max(k) as last
       from (select ${walkSql.key} as k from ${walkFrom}
              where ${[...walkSql.walk, `${walkSql.key} > $${walkParams.length - 1}`].join(' and ')}
              order by ${walkSql.key} limit $${walkParams.length}) w`,
    walkParams,
  );
  const { n, last } = bound.rows[0]!;
  if (last === null) return { rows: [], lastKey: null };

  const params: unknown[] = [];
  const param = (value: unknown) => `$${params.push(value)}`;
  const { from, key, walk, filters } = scopeSql(scope, param);
  // lower() … like is a third cheaper than ilike here, with the same folding of case.
  const p = param(pattern);
  const where = [...walk, ...filters, `${key} > ${param(afterId)}`, `${key} <= ${param(last)}`, `(lower(s.name) like lower(${p}) or lower(s.email) like lower(${p}))`];
  const { rows } = await client.query<RawStudentRow>(
    `select ${STUDENT_COLUMNS} from ${from} ${ENROLLMENTS_LATERAL} where ${where.join(' and ')} order by ${key} limit ${param(want)}`,
    params,
  );
  return { rows: rows.map(toRow), lastKey: n < SCAN_WINDOW ? null : Number(last) };
}

/**
 * The first `want` matches of the scope after `afterId`, through the trigram index. Its
 * candidates are read first with the planner kept off sequential and plain index scans (which
 * leaves the index's bitmap scan, never the table in id order); `want` of them, or INDEX_HITS when
 * the scope filters them further; then the scope's own terms keep some. When INDEX_HITS
 * candidates did not fill the page, `resumeAfter` is the last of them.
 */
async function indexSearch(client: pg.ClientBase, scope: StudentScope, pattern: string, afterId: number, want: number): Promise<SearchPage> {
  const filtered = scope.kind === 'course' || scope.hasActiveEnrollment !== undefined || scope.email !== undefined;
  const cap = filtered ? INDEX_HITS : want;
  let ids: string[];
  await client.query('begin');
  try {
    await client.query('set local enable_seqscan = off');
    await client.query('set local enable_indexscan = off');
    const found = await client.query<{ id: string }>(
      `select id from students where (name ilike $1 or email ilike $1) and id > $2 order by id limit $3`,
      [pattern, afterId, cap],
    );
    await client.query('commit');
    ids = found.rows.map((r) => r.id);
  } catch (err) {
    await client.query('rollback').catch(() => {});
    throw err;
  }
  if (ids.length === 0) return { rows: [], resumeAfter: null };
  const params: unknown[] = [];
  const param = (value: unknown) => `$${params.push(value)}`;
  const { from, key, walk, filters } = scopeSql(scope, param);
  const where = [...walk, ...filters, `${key} = any(${param(ids)}::bigint[])`];
  const { rows } = await client.query<RawStudentRow>(
    `select ${STUDENT_COLUMNS} from ${from} ${ENROLLMENTS_LATERAL} where ${where.join(' and ')} order by ${key} limit ${param(want)}`,
    params,
  );
  const short = rows.length < want && filtered && ids.length === cap;
  return { rows: rows.map(toRow), resumeAfter: short ? Number(ids.at(-1)) : null };
}
