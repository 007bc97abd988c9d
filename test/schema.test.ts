import { spawn } from 'node:child_process';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { migrationsList } from '../migrations/index.js';
import { migrate } from '../src/db/migrate.js';
import type { Deps } from '../src/process/deps.js';
import { createTestDeps, truncateAll } from './support/deps.js';
import { TEST_DATABASE_URL } from './support/env.js';
import { exited, freePort } from './support/processes.js';

let deps: Deps;
const sql = <T = Record<string, unknown>>(q: string, params: unknown[] = []) =>
  deps.orm.em.getConnection().execute<T[]>(q, params);

beforeAll(async () => {
  deps = await createTestDeps();
});
afterAll(() => deps.close());
beforeEach(() => truncateAll(deps));

describe('migrated schema (CONTRACT §1)', () => {
  it('has the three tables and never the legacy ones', async () => {
    const rows = await sql<{ tablename: string }>(`select tablename from pg_tables where schemaname = 'public'`);
    const names = rows.map((r) => r.tablename);
    expect(names).toEqual(expect.arrayContaining(['students', 'courses', 'course_enrollments']));
    expect(names).not.toContain('groups');
    expect(names).not.toContain('group_members');
  });

  it('indexes course_enrollments on course_id and on student_id', async () => {
    const rows = await sql<{ indexdef: string }>(`select indexdef from pg_indexes where tablename = 'course_enrollments'`);
    const defs = rows.map((r) => r.indexdef);
    expect(defs.some((d) => /\(course_id\)$/.test(d))).toBe(true);
    expect(defs.some((d) => /\(student_id\)$/.test(d))).toBe(true);
    expect(defs.some((d) => /UNIQUE.*\(course_id, student_id\)/.test(d))).toBe(true);
  });

  it("indexes jobs on (reverts, seq): a job's view finds its newest revert by an index probe, whatever the statistics", async () => {
    const rows = await sql<{ indexdef: string }>(`select indexdef from pg_indexes where tablename = 'jobs'`);
    expect(rows.map((r) => r.indexdef)).toContainEqual(expect.stringMatching(/\(reverts, seq\) WHERE \(reverts IS NOT NULL\)$/));
  });

  it('rejects a second student with the same email in other letters', async () => {
    await sql(`insert into students (name, email) values ('Ana', 'ana@example.edu')`);
    await expect(sql(`insert into students (name, email) values ('Ana 2', 'ANA@Example.edu')`)).rejects.toThrow(
      /students_email_lower_uq/,
    );
  });

  it('rejects a second course with the same name in other letters', async () => {
    await sql(`insert into courses (name) values ('Physics 201')`);
    await expect(sql(`insert into courses (name) values ('PHYSICS 201')`)).rejects.toThrow(/courses_name_lower_uq/);
  });

  it('rejects a duplicate (course_id, student_id) and defaults active to true with timestamps', async () => {
    const [s] = await sql<{ id: string }>(`insert into students (name, email) values ('Bo', 'bo@x.edu') returning id`);
    const [c] = await sql<{ id: string }>(`insert into courses (name) values ('Art 100') returning id`);
    const [e] = await sql<{ active: boolean; created_at: string; updated_at: string }>(
      `insert into course_enrollments (course_id, student_id) values (?, ?) returning *`,
      [c!.id, s!.id],
    );
    expect(e).toMatchObject({ active: true });
    expect(Date.parse(String(e!.created_at))).toBeGreaterThan(Date.now() - 60_000);
    expect(Date.parse(String(e!.updated_at))).toBeGreaterThan(Date.now() - 60_000);
    await expect(
      sql(`insert into course_enrollments (course_id, student_id) values (?, ?)`, [c!.id, s!.id]),
    ).rejects.toThrow(/course_enrollments_course_student_uq/);
  });

  it('enforces foreign keys and the name rules', async () => {
    await expect(sql(`insert into course_enrollments (course_id, student_id) values (1, 1)`)).rejects.toThrow(
      /foreign key/,
    );
    await expect(sql(`insert into students (name, email) values (' padded ', 'p@x.edu')`)).rejects.toThrow(
      /students_name_valid/,
    );
    await expect(sql(`insert into students (name, email) values (?, 'long@x.edu')`, ['x'.repeat(201)])).rejects.toThrow(
      /students_name_valid/,
    );
    await expect(sql(`insert into courses (name) values ('')`)).rejects.toThrow(/courses_name_trimmed/);
  });
});

describe('npm run migrate', () => {
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/enroll_migrate_${process.pid}`;
  const fresh = url.toString();
  const dropFresh = async () => {
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    await admin.query(`drop database if exists ${pg.escapeIdentifier(url.pathname.slice(1))} with (force)`);
    await admin.end();
  };
  beforeAll(dropFresh);
  afterAll(dropFresh);

  it('creates a missing database and applies each migration exactly once when two run at once', async () => {
    const log = pino({ level: 'silent' });
    const [a, b] = await Promise.all([migrate(fresh, log), migrate(fresh, log)]);
    expect([...a, ...b]).toEqual(migrationsList.map((m) => m.name));
    expect(await migrate(fresh, log)).toEqual([]);
  });

  it('without BullMQ\'s migrations, an API or worker on QUEUE_BACKEND=postgres stops with one line naming npm run migrate, exit 1', async () => {
    await migrate(fresh, pino({ level: 'silent' })); // the service's tables only, not the schema bullmq
    for (const entry of ['src/api.ts', 'workers/main.ts']) {
      const env = { ...process.env, NODE_ENV: 'test', DATABASE_URL: fresh, QUEUE_BACKEND: 'postgres', PORT: String(await freePort()), LOG_LEVEL: 'silent' };
      const child = spawn(process.execPath, ['--import', 'tsx', entry], { env, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      expect(await exited(child)).toBe(1);
      expect(stderr).toBe(`QUEUE_BACKEND=postgres: BullMQ's schema "bullmq" is not migrated in this database; run \`npm run migrate\` with QUEUE_BACKEND=postgres first\n`);
    }
  }, 30_000);
});
