import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { initORM, type Orm } from '../src/db/orm.js';
import { auditLegacyEnrollments, findLegacyTables } from '../src/legacy/legacy.repository.js';
import { truncateAll } from './support/deps.js';
import { TEST_DATABASE_URL } from './support/env.js';
import { CLI_TIMEOUT, legacyDatabase, runCli } from './support/legacy.js';

/**
 * CONTRACT §5, `npm run audit:enrollments` and `npm run backfill:enrollments` as commands: what they
 * print and how they exit, on databases with and without the legacy tables, and on bad arguments.
 */

let orm: Orm;
const { sql, dropLegacyTables, createLegacyTables, seedFixture, enrollments } = legacyDatabase(() => orm);

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
