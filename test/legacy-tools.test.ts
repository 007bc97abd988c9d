import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LOCKS } from '../src/db/locks.js';
import { initORM, type Orm } from '../src/db/orm.js';
import {
  auditLegacyEnrollments,
  backfillEnrollments,
  findLegacyTables,
  planBackfill,
  type BackfillProgress,
} from '../src/legacy/legacy.repository.js';
import { truncateAll } from './support/deps.js';
import { TEST_DATABASE_URL } from './support/env.js';
import { legacyDatabase, type EnrollmentRow } from './support/legacy.js';
import { waitFor } from './support/wait.js';

/** CONTRACT §5, the legacy tools on a database with groups/group_members: the audit's figures and the backfill's writes. */

let orm: Orm;
const { sql, dropLegacyTables, createLegacyTables, seedFixture, enrollments, legacySnapshot } = legacyDatabase(() => orm);

beforeAll(async () => {
  orm = await initORM(TEST_DATABASE_URL, 4);
});
afterAll(async () => {
  await dropLegacyTables();
  await orm.close(true);
});
beforeEach(() => truncateAll({ orm }));

const pairsOf = (rows: EnrollmentRow[]) => rows.map((r) => `${r.course_id},${r.student_id},${r.active}`);

describe('with the legacy tables', () => {
  beforeEach(async () => {
    await createLegacyTables();
    await seedFixture();
  });
  afterEach(dropLegacyTables);

  it('audits exact figures; coverage is covered pairs / all pairs, rounded down', async () => {
    expect(await findLegacyTables(orm)).toBe('present');
    const audit = await auditLegacyEnrollments(orm);
    expect(audit).toEqual({
      active_memberships: 9,
      memberships_without_course: 1,
      students_with_active_membership: 6,
      students_with_any_enrollment: 4,
      pairs_total: 7,
      pairs_covered: 1,
      pairs_missing: 6,
      missing_to_create: 4,
      missing_to_reactivate: 1,
      missing_orphaned: 1,
      coverage_percent: 14.28,
      student_coverage_percent: 66.66,
      missing_examples: [
        { course_id: 1, student_id: 1, action: 'create', course_name: 'Physics 201', student_email: 's1@uni.edu' },
        { course_id: 1, student_id: 2, action: 'create', course_name: 'Physics 201', student_email: 's2@uni.edu' },
        { course_id: 1, student_id: 6, action: 'create', course_name: 'Physics 201', student_email: 's6@uni.edu' },
        { course_id: 1, student_id: 9999, action: 'orphaned', course_name: 'Physics 201', student_email: null },
        { course_id: 2, student_id: 1, action: 'create', course_name: 'Chemistry 110', student_email: 's1@uni.edu' },
      ],
    });
  });

  it('reports 100% coverage when there are no active memberships', async () => {
    await sql(`update group_members set active = false`);
    const audit = await auditLegacyEnrollments(orm);
    expect(audit).toMatchObject({ active_memberships: 0, pairs_total: 0, coverage_percent: 100, missing_examples: [] });
  });

  it('plans without writing anything', async () => {
    const before = await enrollments();
    const plan = await planBackfill(orm);
    expect(plan).toMatchObject({ to_create: 4, to_reactivate: 1, orphaned: 1 });
    expect(plan.sample.map((p) => [p.course_id, p.student_id, p.action])).toEqual([
      [1, 1, 'create'],
      [1, 2, 'create'],
      [1, 6, 'create'],
      [2, 1, 'create'],
      [3, 4, 'reactivate'],
    ]);
    expect(await enrollments()).toEqual(before);
  });

  it('commits exactly the missing pairs, touches nothing else, and is idempotent', async () => {
    const legacyBefore = await legacySnapshot();
    const before = await enrollments();
    expect(await backfillEnrollments(orm)).toEqual({ created: 4, reactivated: 1, orphaned: 1, batches: 1 });
    const after = await enrollments();
    expect(pairsOf(after)).toEqual([
      '1,1,true', '1,2,true', '1,6,true', '2,1,true', '2,3,true', '3,4,true', '4,2,false', '4,6,true',
    ]);
    const untouched = (rows: EnrollmentRow[]) =>
      rows.filter((r) => ['2,3', '4,2', '4,6'].includes(`${r.course_id},${r.student_id}`));
    expect(untouched(after)).toEqual(untouched(before));
    expect(await legacySnapshot()).toEqual(legacyBefore);
    expect(await auditLegacyEnrollments(orm)).toMatchObject({
      pairs_covered: 6,
      pairs_missing: 1,
      coverage_percent: 85.71,
    });

    expect(await backfillEnrollments(orm)).toEqual({ created: 0, reactivated: 0, orphaned: 1, batches: 0 });
    expect(await enrollments()).toEqual(after);
  });

  it('leaves alone, and does not count, a pair activated by someone else during the run', async () => {
    const result = await backfillEnrollments(orm, {
      batchSize: 1,
      onProgress: async ({ batches }) => {
        if (batches !== 1) return;
        await sql(`insert into course_enrollments (course_id, student_id) values (2, 1)`);
        await sql(`update course_enrollments set active = true, updated_at = '2020-01-01' where course_id = 3`);
      },
    });
    expect(result).toEqual({ created: 3, reactivated: 0, orphaned: 1, batches: 5 });
    const rows = await sql(`select active, updated_at = '2020-01-01' as untouched from course_enrollments
      where course_id = 3`);
    expect(rows).toEqual([{ active: true, untouched: true }]);
  });

  it('waits for the apply lock, like every other writer of course_enrollments', async () => {
    const { inApplyTransaction } = await import('../src/db/apply-transaction.js');
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const lockTaken = new Promise<void>((r) => (locked = r));
    const holder = inApplyTransaction(orm, async () => {
      locked();
      await held;
    });
    await lockTaken;
    let done = false;
    const backfill = backfillEnrollments(orm).then((r) => ((done = true), r));
    await waitFor('the backfill to queue for the apply lock', async () => {
      const waiting = await sql(
        `select l.pid from pg_locks l join pg_database d on d.oid = l.database
          where l.locktype = 'advisory' and l.objid = ? and not l.granted and d.datname = current_database()`,
        [LOCKS.apply],
      );
      return waiting.length > 0;
    }, { timeoutMs: 10_000 });
    expect(done).toBe(false);
    release();
    await holder;
    expect(await backfill).toMatchObject({ created: 4, reactivated: 1 });
  });

  it('writes in keyset batches without skipping or repeating a pair', async () => {
    // 12 courses x 250 students, everyone an active member; some pairs enrolled, some inactive.
    await sql(`insert into courses (name) select 'Bulk ' || i from generate_series(1, 12) i`);
    await sql(`insert into students (name, email)
      select 'Bulk ' || i, 'b' || i || '@uni.edu' from generate_series(1, 250) i`);
    await sql(`insert into groups select 100 + c.id, c.id, 'Bulk group', 1 from courses c where c.name like 'Bulk %'`);
    await sql(`insert into group_members select 1000 + row_number() over (), g.id, s.id, true
      from groups g cross join students s where g.id > 100 and s.email like 'b%'`);
    await sql(`insert into course_enrollments (course_id, student_id, active)
      select g.course_id, s.id, s.id % 3 = 0 from groups g cross join students s
      where g.id > 100 and s.email like 'b%' and s.id % 2 = 0`);
    const plan = await planBackfill(orm);
    const progress: BackfillProgress[] = [];
    const result = await backfillEnrollments(orm, { batchSize: 700, onProgress: (p) => void progress.push(p) });
    const pending = plan.to_create + plan.to_reactivate;
    // Bulk students have ids 7..256: 125 odd ids not enrolled, 84 even ids not divisible by 3 inactive.
    expect(pending).toBe(4 + 1 + 12 * (125 + 84));
    expect(result).toEqual({
      created: plan.to_create,
      reactivated: plan.to_reactivate,
      orphaned: 1,
      batches: Math.ceil(pending / 700),
    });
    // First what is to be written (before any batch), then every batch.
    expect(progress[0]).toEqual({ batches: 0, processed: 0, total: pending, created: 0, reactivated: 0 });
    expect(progress.map((p) => p.processed)).toEqual(progress.map((_, i) => Math.min(i * 700, pending)));
    expect(await auditLegacyEnrollments(orm)).toMatchObject({ pairs_missing: 1, missing_orphaned: 1 });
  });
});
