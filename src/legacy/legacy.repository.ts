import type pg from 'pg';
import { withPgClient, type Orm } from '../db/orm.js';
import { takeApplyLock } from '../db/apply-transaction.js';

/**
 * Reads the legacy `groups`/`group_members` tables and backfills `course_enrollments` from them
 * (CONTRACT §1). A legacy pair is `(groups.course_id, group_members.student_id)` of an ACTIVE
 * membership; it is covered when `course_enrollments` has an active row for it. The legacy tables
 * are only ever read.
 */

/**
 * Whether the legacy tables exist (`incomplete`: group_members without groups, so no courses;
 * `unmigrated`: they exist but the service's own tables do not yet).
 */
export type LegacyTablesState = 'present' | 'absent' | 'incomplete' | 'unmigrated';

/** What the backfill does for a missing pair: insert a row, reactivate one, or skip an orphan. */
export type MissingAction = 'create' | 'reactivate' | 'orphaned';

/** A legacy pair without an active enrollment; names are null when the course/student is gone. */
export type MissingPair = {
  course_id: number;
  student_id: number;
  action: MissingAction;
  course_name: string | null;
  student_email: string | null;
};

/**
 * The audit figures. `coverage_percent` is per pair, `pairs_covered / pairs_total`;
 * `student_coverage_percent` is per student, as the legacy script reported it:
 * `students_with_any_enrollment / students_with_active_membership`. Each is 100 when there is nothing to cover.
 */
export type LegacyAudit = {
  active_memberships: number;
  memberships_without_course: number;
  students_with_active_membership: number;
  students_with_any_enrollment: number;
  pairs_total: number;
  pairs_covered: number;
  pairs_missing: number;
  missing_to_create: number;
  missing_to_reactivate: number;
  missing_orphaned: number;
  coverage_percent: number;
  student_coverage_percent: number;
  missing_examples: MissingPair[];
};

/** What a committed backfill wrote. */
export type BackfillResult = { created: number; reactivated: number; orphaned: number; batches: number };

/** Progress of a committed backfill, after each batch. */
export type BackfillProgress = {
  batches: number;
  processed: number;
  total: number;
  created: number;
  reactivated: number;
};

/** Distinct `(course_id, student_id)` of active memberships whose group names a course. */
const LEGACY_PAIRS = `
  select distinct g.course_id, gm.student_id
  from group_members gm join groups g on g.id = gm.group_id
  where gm.active is true and g.course_id is not null and gm.student_id is not null`;

/** Every legacy pair with what is known about it; `e`, `c`, `s` are null when absent. */
const PAIR_STATE = `
  from (${LEGACY_PAIRS}) p
  left join course_enrollments e on e.course_id = p.course_id and e.student_id = p.student_id
  left join courses c on c.id = p.course_id
  left join students s on s.id = p.student_id`;

const ACTION = `case when c.id is null or s.id is null then 'orphaned'
  when e.id is null then 'create' else 'reactivate' end`;

/** Tells whether this database has the legacy tables (looked up on the search path, like every query). */
export async function findLegacyTables(orm: Orm): Promise<LegacyTablesState> {
  return withPgClient(orm, async (client) => {
    const { rows } = await client.query<{ members: boolean; groups: boolean; enrollments: boolean }>(
      `select to_regclass('group_members') is not null as members, to_regclass('groups') is not null as groups,
              to_regclass('course_enrollments') is not null as enrollments`,
    );
    const { members, groups, enrollments } = rows[0]!;
    if (!members) return 'absent';
    if (!groups) return 'incomplete';
    return enrollments ? 'present' : 'unmigrated';
  });
}

/** Counts memberships, students and pairs, and lists up to `examples` missing pairs. */
export async function auditLegacyEnrollments(orm: Orm, examples = 5): Promise<LegacyAudit> {
  return withPgClient(orm, async (client) => {
    const members = await countMemberships(client);
    const pairs = await countPairs(client);
    const missing = pairs.total - pairs.covered;
    return {
      ...members,
      pairs_total: pairs.total,
      pairs_covered: pairs.covered,
      pairs_missing: missing,
      missing_to_create: pairs.create,
      missing_to_reactivate: pairs.reactivate,
      missing_orphaned: pairs.orphaned,
      coverage_percent: coveragePercent(pairs.covered, pairs.total),
      student_coverage_percent: coveragePercent(members.students_with_any_enrollment, members.students_with_active_membership),
      missing_examples: await listMissingPairs(client, examples),
    };
  });
}

/**
 * `covered / total` as a percentage, rounded DOWN to two decimals so that 100 means all are
 * covered; 100 when there is nothing to cover.
 */
export function coveragePercent(covered: number, total: number): number {
  return total === 0 ? 100 : Math.floor((covered * 10_000) / total) / 100;
}

async function countMemberships(client: pg.PoolClient) {
  const { rows } = await client.query(`
    select count(*) as active_memberships,
      count(*) filter (where g.course_id is null) as memberships_without_course,
      count(distinct gm.student_id) as students_with_active_membership,
      count(distinct gm.student_id) filter (
        where exists (select 1 from course_enrollments e where e.student_id = gm.student_id)
      ) as students_with_any_enrollment
    from group_members gm left join groups g on g.id = gm.group_id
    where gm.active is true`);
  const r = rows[0];
  return {
    active_memberships: Number(r.active_memberships),
    memberships_without_course: Number(r.memberships_without_course),
    students_with_active_membership: Number(r.students_with_active_membership),
    students_with_any_enrollment: Number(r.students_with_any_enrollment),
  };
}

async function countPairs(client: pg.PoolClient) {
  const { rows } = await client.query(`
    select count(*) as total,
      count(*) filter (where e.active) as covered,
      count(*) filter (where e.active is not true and ${ACTION} = 'create') as to_create,
      count(*) filter (where e.active is not true and ${ACTION} = 'reactivate') as to_reactivate,
      count(*) filter (where e.active is not true and ${ACTION} = 'orphaned') as orphaned
    ${PAIR_STATE}`);
  const r = rows[0];
  return {
    total: Number(r.total),
    covered: Number(r.covered),
    create: Number(r.to_create),
    reactivate: Number(r.to_reactivate),
    orphaned: Number(r.orphaned),
  };
}

/** Up to `limit` pairs without an active enrollment (only writable ones if asked), in key order. */
async function listMissingPairs(client: pg.PoolClient, limit: number, writableOnly = false): Promise<MissingPair[]> {
  const { rows } = await client.query(
    `select p.course_id, p.student_id, ${ACTION} as action, c.name as course_name, s.email as student_email
     ${PAIR_STATE}
     where e.active is not true ${writableOnly ? 'and c.id is not null and s.id is not null' : ''}
     order by p.course_id, p.student_id
     limit $1`,
    [limit],
  );
  return rows.map((r) => ({ ...r, course_id: Number(r.course_id), student_id: Number(r.student_id) }));
}

/** What a backfill would write: counts, and a sample of the pairs it would write. */
export type BackfillPlan = { to_create: number; to_reactivate: number; orphaned: number; sample: MissingPair[] };

/** The dry run: what `backfillEnrollments` would write now, without writing anything. */
export async function planBackfill(orm: Orm, sample = 10): Promise<BackfillPlan> {
  return withPgClient(orm, async (client) => {
    const pairs = await countPairs(client);
    return {
      to_create: pairs.create,
      to_reactivate: pairs.reactivate,
      orphaned: pairs.orphaned,
      sample: await listMissingPairs(client, sample, true),
    };
  });
}

/** A temporary table, private to the backfill's connection: one numbered snapshot of the pairs to write. */
const PENDING = 'legacy_backfill_pending';

/**
 * Writes one active enrollment for every missing, writable legacy pair: inserts it, or reactivates
 * an inactive one; never deactivates anything and never writes the legacy tables. The pairs are
 * taken once, numbered in (course_id, student_id) order, then written in keyset order, `batchSize`
 * per transaction, so no transaction holds many row locks. Idempotent: a second run writes nothing,
 * and a pair that the service activates meanwhile is left alone and not counted.
 */
export async function backfillEnrollments(
  orm: Orm,
  options: { batchSize?: number; onProgress?: (p: BackfillProgress) => void | Promise<void> } = {},
): Promise<BackfillResult> {
  const batchSize = options.batchSize ?? 5_000;
  return withPgClient(orm, async (client) => {
    try {
      const { total, orphaned } = await snapshotPendingPairs(client);
      const result: BackfillResult = { created: 0, reactivated: 0, orphaned, batches: 0 };
      await options.onProgress?.({ batches: 0, processed: 0, total, created: 0, reactivated: 0 });
      for (let processed = 0; processed < total; ) {
        const batch = await writeBatch(client, processed, batchSize);
        if (batch.scanned === 0) break; // cannot happen with a private snapshot; never loop forever
        processed += batch.scanned;
        result.batches += 1;
        result.created += batch.created;
        result.reactivated += batch.reactivated;
        const { created, reactivated, batches } = result;
        await options.onProgress?.({ batches, processed, total, created, reactivated });
      }
      return result;
    } finally {
      // The connection goes back to the pool, and a temporary table lives as long as the session.
      await client.query(`drop table if exists pg_temp.${PENDING}`);
    }
  });
}

/** Fills the temporary table with the pairs to write; counts the orphans that cannot be written. */
async function snapshotPendingPairs(client: pg.PoolClient): Promise<{ total: number; orphaned: number }> {
  await client.query(`drop table if exists pg_temp.${PENDING}`);
  await client.query(`create temporary table ${PENDING} (
    n bigint primary key, course_id bigint not null, student_id bigint not null)`);
  const inserted = await client.query(
    `insert into ${PENDING}
     select row_number() over (order by p.course_id, p.student_id), p.course_id, p.student_id
     ${PAIR_STATE}
     where e.active is not true and c.id is not null and s.id is not null`,
  );
  await client.query(`analyze ${PENDING}`);
  const { rows } = await client.query(
    `select count(*) as orphaned ${PAIR_STATE} where e.active is not true and (c.id is null or s.id is null)`,
  );
  return { total: inserted.rowCount ?? 0, orphaned: Number(rows[0].orphaned) };
}

type BatchOutcome = { scanned: number; created: number; reactivated: number };

/** One transaction under the apply lock: pending pairs `after + 1 ..= after + limit`, upserted as active enrollments. */
async function writeBatch(client: pg.PoolClient, after: number, limit: number): Promise<BatchOutcome> {
  await client.query('begin');
  try {
    // Like every write to course_enrollments: one writer at a time (see src/db/apply-transaction.ts).
    await takeApplyLock(client);
    const { rows } = await client.query(
      `with batch as (
         select course_id, student_id from ${PENDING} where n > $1 order by n limit $2
       ), written as (
         insert into course_enrollments (course_id, student_id, active)
         select course_id, student_id, true from batch
         on conflict (course_id, student_id) do update set active = true, updated_at = now()
           where not course_enrollments.active
         returning (xmax = 0) as inserted -- xmax is 0 only on a freshly inserted row version
       )
       select (select count(*) from batch) as scanned,
         (select count(*) from written where inserted) as created,
         (select count(*) from written where not inserted) as reactivated`,
      [after, limit],
    );
    await client.query('commit');
    const r = rows[0];
    return { scanned: Number(r.scanned), created: Number(r.created), reactivated: Number(r.reactivated) };
  } catch (err) {
    await client.query('rollback');
    throw err;
  }
}
