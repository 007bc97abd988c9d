import { execFile } from 'node:child_process';
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
import { waitFor } from './support/wait.js';

let orm: Orm;
const sql = <T = Record<string, unknown>>(q: string, params: unknown[] = []) =>
  orm.em.getConnection().execute<T[]>(q, params);

const dropLegacyTables = () => sql('drop table if exists group_members, groups');

/** Legacy tables as old installations have them; no foreign keys, so orphans can be staged. */
async function createLegacyTables(): Promise<void> {
  await dropLegacyTables();
  await sql(`create table groups (id bigint primary key, course_id bigint, name text, team_number int)`);
  await sql(`create table group_members (id bigint primary key, group_id bigint, student_id bigint, active boolean)`);
}

/**
 * Courses 1-4, students 1-6 (ids restart at 1 after truncateAll). Active legacy pairs:
 * (1,1) (2,1) (1,2) (2,3) (3,4) (1,6) and the orphan (1,9999). Already covered: (2,3).
 * (3,4) has an inactive enrollment to reactivate. Student 5 has only inactive memberships, student 3
 * an inactive one in course 1; (4,6) active and (4,2) inactive are not legacy pairs.
 */
async function seedFixture(): Promise<void> {
  await sql(`insert into courses (name) values ('Physics 201'), ('Chemistry 110'), ('Art 100'), ('History 150')`);
  await sql(`insert into students (name, email)
    select 'Student ' || i, 's' || i || '@uni.edu' from generate_series(1, 6) i`);
  await sql(`insert into course_enrollments (course_id, student_id, active)
    values (2, 3, true), (3, 4, false), (4, 6, true), (4, 2, false)`);
  await sql(`insert into groups values (1, 1, 'Physics A', 1), (2, 1, 'Physics B', 2), (3, 2, 'Chem A', 1),
    (4, 3, 'Art A', 1), (5, null, 'Unassigned', null)`);
  await sql(`insert into group_members values (1, 1, 1, true), (2, 3, 1, true), (3, 1, 2, true), (4, 2, 2, true),
    (5, 3, 3, true), (6, 4, 4, true), (7, 2, 6, true), (8, 1, 5, false), (9, 4, 5, false), (10, 1, 9999, true),
    (11, 5, 1, true), (12, 1, 3, false)`);
}

type Row = { course_id: string; student_id: string; active: boolean; updated_at: string };
const enrollments = () =>
  sql<Row>(`select course_id, student_id, active, updated_at from course_enrollments order by course_id, student_id`);
const pairsOf = (rows: Row[]) => rows.map((r) => `${r.course_id},${r.student_id},${r.active}`);
const legacySnapshot = async () => [
  await sql(`select * from groups order by id`),
  await sql(`select * from group_members order by id`),
];

/** Spawning tsx takes seconds on a busy machine; the CLI tests get more room than the default. */
const CLI_TIMEOUT = 90_000;

/** Runs a real CLI entry point against the test database. */
function runCli(script: string, args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      'node_modules/.bin/tsx',
      [`src/cli/${script}.ts`, ...args],
      { env: { ...process.env, DATABASE_URL: TEST_DATABASE_URL, LOG_LEVEL: 'silent', ...env } },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code) : 0, stdout, stderr }),
    );
  });
}

beforeAll(async () => {
  orm = await initORM(TEST_DATABASE_URL, 4);
});
afterAll(async () => {
  await dropLegacyTables();
  await orm.close(true);
});
beforeEach(() => truncateAll({ orm }));

describe('a database without the legacy tables', () => {
  beforeEach(dropLegacyTables);

  it('is detected', async () => {
    expect(await findLegacyTables(orm)).toBe('absent');
  });

  it('is told apart from one with group_members but no groups', async () => {
    await sql(`create table group_members (id bigint primary key, group_id bigint, student_id bigint, active boolean)`);
    expect(await findLegacyTables(orm)).toBe('incomplete');
    await dropLegacyTables();
  });

  it('makes both tools print one line and exit 0', async () => {
    const audit = await runCli('audit-enrollments', []);
    expect(audit).toEqual({ code: 0, stdout: 'no legacy group_members table: nothing to audit\n', stderr: '' });
    const backfill = await runCli('backfill-enrollments', ['--commit']);
    expect(backfill).toEqual({ code: 0, stdout: 'no legacy group_members table: nothing to backfill\n', stderr: '' });
    const json = await runCli('audit-enrollments', ['--json']);
    expect(JSON.parse(json.stdout)).toEqual({
      legacy_tables: false,
      message: 'no legacy group_members table: nothing to audit',
    });
  }, CLI_TIMEOUT);
});

describe('a database the tools cannot work on', () => {
  /** The URL of another database on the test server. */
  const urlOf = (name: string) => {
    const url = new URL(TEST_DATABASE_URL);
    url.pathname = `/${name}`;
    return url.toString();
  };
  const exists = async (name: string) => (await sql(`select 1 from pg_database where datname = ?`, [name])).length > 0;

  it('a database that does not exist fails in one line, and is not created', async () => {
    const name = `enrollments_test_missing_${process.pid}`;
    const shown = new URL(urlOf(name)); // as the message shows it: without the password
    if (shown.password) shown.password = '***';
    for (const [script, args] of [['audit-enrollments', []], ['backfill-enrollments', ['--commit']]] as const) {
      const run = await runCli(script, [...args], { DATABASE_URL: urlOf(name) });
      expect({ code: run.code, stdout: run.stdout }).toEqual({ code: 1, stdout: '' });
      expect(run.stderr).toBe(`${script} failed: database "${name}" does not exist: check DATABASE_URL=${shown}\n`);
    }
    expect(await exists(name)).toBe(false);
  }, CLI_TIMEOUT);

  it('a server that does not answer fails in one line, with no password shown', async () => {
    const run = await runCli('audit-enrollments', [], { DATABASE_URL: 'postgres://postgres:secret@127.0.0.1:1/x?password=secret' });
    expect(run).toEqual({
      code: 1,
      stdout: '',
      stderr: 'audit-enrollments failed: cannot reach PostgreSQL at DATABASE_URL=postgres://postgres:***@127.0.0.1:1/x?password=***: connect ECONNREFUSED 127.0.0.1:1\n',
    });
  }, CLI_TIMEOUT);

  it('legacy tables without course_enrollments fail in one line, and nothing is written', async () => {
    const name = `enrollments_test_unmigrated_${process.pid}`;
    await sql(`drop database if exists ${name}`);
    await sql(`create database ${name}`);
    const legacy = await initORM(urlOf(name), 1);
    try {
      const run = (q: string) => legacy.em.getConnection().execute(q);
      await run(`create table groups (id bigint primary key, course_id bigint, name text, team_number int)`);
      await run(`create table group_members (id bigint primary key, group_id bigint, student_id bigint, active boolean)`);
      await run(`insert into groups values (1, 1, 'A', 1); insert into group_members values (1, 1, 1, true)`);
      for (const [script, args] of [['audit-enrollments', []], ['backfill-enrollments', ['--commit']]] as const) {
        const result = await runCli(script, [...args], { DATABASE_URL: urlOf(name) });
        expect(result).toMatchObject({ code: 1, stdout: '' });
        expect(result.stderr).toBe(`${script} failed: this database has the legacy tables but no course_enrollments: run the tools where both are (\`npm run migrate\` creates the service's tables)\n`);
      }
      expect(await run(`select to_regclass('course_enrollments') as t`)).toEqual([{ t: null }]);
      expect(await run(`select count(*)::int as n from group_members`)).toEqual([{ n: 1 }]);
    } finally {
      await legacy.close(true);
      await sql(`drop database if exists ${name} with (force)`);
    }
  }, CLI_TIMEOUT);
});

describe('arguments', () => {
  it('a bad argument exits 2 with a usage line', async () => {
    const cases: Array<[string, string[]]> = [
      ['audit-enrollments', ['--commit']],
      ['audit-enrollments', ['extra']],
      ['backfill-enrollments', ['--frobnicate']],
      ['backfill-enrollments', ['--batch-size', '0']],
      ['backfill-enrollments', ['--batch-size=abc']],
    ];
    const runs = await Promise.all(cases.map(([script, args]) => runCli(script, args)));
    runs.forEach(({ code, stdout, stderr }, i) => {
      const script = cases[i]![0];
      expect({ script, code, stdout }).toEqual({ script, code: 2, stdout: '' });
      expect(stderr).toMatch(new RegExp(`^usage: npm run ${script.replace('-', ':')}`, 'm'));
    });
  }, CLI_TIMEOUT);

  it('--help prints usage and exits 0', async () => {
    const { code, stdout } = await runCli('backfill-enrollments', ['--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^usage: npm run backfill:enrollments/);
  }, CLI_TIMEOUT);
});

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
    const untouched = (rows: Row[]) =>
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

describe('the CLIs on the legacy tables', () => {
  beforeEach(async () => {
    await createLegacyTables();
    await seedFixture();
  });
  afterEach(dropLegacyTables);

  it('audit --json prints only JSON on stdout, even with logs on', async () => {
    const { code, stdout } = await runCli('audit-enrollments', ['--json'], { LOG_LEVEL: 'debug' });
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ legacy_tables: true, ...(await auditLegacyEnrollments(orm)) });
  }, CLI_TIMEOUT);

  it('audit prints a human report', async () => {
    const { code, stdout } = await runCli('audit-enrollments', []);
    expect(code).toBe(0);
    expect(stdout).toMatch(/active group_members rows: +9$/m);
    expect(stdout).toMatch(/coverage \(pairs with an active enrollment \/ all pairs\): 14\.28%$/m);
  }, CLI_TIMEOUT);

  it('dry run writes nothing; --commit writes; a second --commit writes nothing and says so', async () => {
    const before = await enrollments();
    const dry = await runCli('backfill-enrollments', []);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/^Dry run: nothing was written\.$/m);
    expect(dry.stdout).toMatch(/^Would write 5 active enrollments: 4 new, 1 reactivated\.$/m);
    expect(await enrollments()).toEqual(before);

    const commit = await runCli('backfill-enrollments', ['--commit', '--json'], { LOG_LEVEL: 'info' });
    expect(commit.code).toBe(0);
    expect(JSON.parse(commit.stdout)).toEqual({
      legacy_tables: true, mode: 'commit', created: 4, reactivated: 1, orphaned: 1, batches: 1,
    });
    expect(commit.stderr).toMatch(/"msg":"backfill finished"/);
    expect((await enrollments()).length).toBe(before.length + 4);

    const again = await runCli('backfill-enrollments', ['--commit']);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^Nothing to write: .*Nothing was changed\.$/m);
  }, CLI_TIMEOUT);
});
