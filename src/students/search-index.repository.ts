import type pg from 'pg';

/**
 * The trigram index of student search (`students_search_trgm_idx`, made by
 * Migration20261201000100_search) around a bulk load of new students.
 *
 * Kept up row by row, it is the dearest part of loading new students: 16 s of a 46 s fresh import
 * of a million rows, where building it afresh over the loaded table takes 5 s (2026-12-02,
 * docs/performance.md). So an import that creates at least BULK_LOAD_STUDENTS students, and at
 * least as many as are stored already, drops the index before its parts and builds it again before
 * it completes, as PostgreSQL's guide to populating a database advises ("Remove Indexes").
 *
 * - While it is away, a search reads students in id order, a window at a time
 *   (student-search.repository.ts): slower pages for a rare part, never a wrong one.
 * - The drop waits at most DROP_LOCK_TIMEOUT for readers of the students table (a streaming export,
 *   say); past that the import keeps the index and pays for it row by row.
 * - The build is a plain `create index`: writes to students (a command creating one) wait while it
 *   runs, a few seconds per million students; a concurrent build takes twice as long. It waits at
 *   most BUILD_LOCK_TIMEOUT for writers of students to finish (a transaction left open would
 *   otherwise hold it, and every writer queued behind it, for good); past that it is left to the
 *   reconciler's next pass.
 * - An import past its review builds the index if it is missing, whichever way it ends. A worker
 *   killed in between leaves it to the import resumed, or, when no import is running, to the
 *   reconciler (reconciler.ts).
 */

export const SEARCH_INDEX = 'students_search_trgm_idx';
/** Fewer new students than this are cheaper to index row by row than to index the whole table again. */
export const BULK_LOAD_STUDENTS = 50_000;
/** How long dropping the index may wait for the students table. */
const DROP_LOCK_TIMEOUT = '1s';
/** How long building it may wait for the writers of students. */
const BUILD_LOCK_TIMEOUT = '2s';

const LOCK_NOT_AVAILABLE = '55P03';

/** The schema pg_trgm is installed in, or null where it is not (the migration then made no index). */
async function trigramSchema(client: pg.ClientBase): Promise<string | null> {
  const { rows } = await client.query<{ schema: string }>(
    `select n.nspname as schema from pg_extension e join pg_namespace n on n.oid = e.extnamespace where e.extname = 'pg_trgm'`,
  );
  return rows[0]?.schema ?? null;
}

/** Whether the search index exists (and is visible to this transaction). */
export async function searchIndexExists(client: pg.ClientBase): Promise<boolean> {
  const { rows } = await client.query<{ ok: boolean }>(`select to_regclass($1) is not null as ok`, [SEARCH_INDEX]);
  return rows[0]!.ok;
}

/**
 * Drops the search index for a load that creates `creates` students, when that is cheaper than
 * keeping it up (see the module comment). Run in a transaction of its own, committed at once.
 * True when dropped.
 */
export async function dropSearchIndexForBulkLoad(client: pg.ClientBase, creates: number, atLeast = BULK_LOAD_STUDENTS): Promise<boolean> {
  if (creates < Math.max(1, atLeast)) return false;
  // Whether the students stored already are as many as the load creates, counting no further.
  const { rows } = await client.query<{ more: boolean }>(`select count(*) > $1::int8 as more from (select from students limit $1::int8 + 1) s`, [creates]);
  if (rows[0]!.more || !(await searchIndexExists(client))) return false;
  // For this transaction only: it commits right after the drop, which holds the table until then.
  await client.query(`set local lock_timeout = '${DROP_LOCK_TIMEOUT}'`);
  await client.query('savepoint drop_search_index');
  try {
    await client.query(`drop index if exists ${SEARCH_INDEX}`);
    return true;
  } catch (err) {
    if ((err as { code?: string }).code !== LOCK_NOT_AVAILABLE) throw err; // the table is busy
    await client.query('rollback to savepoint drop_search_index');
    return false;
  }
}

/**
 * Builds the search index when pg_trgm is installed and the index is missing (dropped for a bulk
 * load, and the load is over), in a transaction of its own (the client must be in none).
 * `built`: now; `present`: there already, or cannot be (no pg_trgm); `busy`: writers of students
 * held the table past BUILD_LOCK_TIMEOUT, nothing done.
 */
export async function ensureSearchIndex(client: pg.ClientBase): Promise<'built' | 'present' | 'busy'> {
  const schema = await trigramSchema(client);
  if (schema === null || (await searchIndexExists(client))) return 'present';
  const ops = `${client.escapeIdentifier(schema)}.gin_trgm_ops`;
  await client.query('begin');
  try {
    await client.query(`set local lock_timeout = '${BUILD_LOCK_TIMEOUT}'`);
    await client.query(`create index if not exists ${SEARCH_INDEX} on students using gin (name ${ops}, email ${ops})`);
    await client.query('commit');
    return 'built';
  } catch (err) {
    await client.query('rollback');
    if ((err as { code?: string }).code === LOCK_NOT_AVAILABLE) return 'busy';
    throw err;
  }
}
