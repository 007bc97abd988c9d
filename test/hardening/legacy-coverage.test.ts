import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { initORM, type Orm } from '../../src/db/orm.js';
import { auditLegacyEnrollments } from '../../src/legacy/legacy.repository.js';
import { formatAudit } from '../../src/legacy/report.js';
import { truncateAll } from '../support/deps.js';
import { TEST_DATABASE_URL } from '../support/env.js';
import { CLI_TIMEOUT, legacyDatabase, runCli } from '../support/legacy.js';

/**
 * Issue 15 item 9: the legacy script that the audit replaces reported coverage per student
 * (students with an enrollment record / students with an active membership), and operators compare
 * the two: the audit prints both, each named.
 */

let orm: Orm;
const { dropLegacyTables, createLegacyTables, seedFixture, sql } = legacyDatabase(() => orm);
beforeAll(async () => {
  orm = await initORM(TEST_DATABASE_URL, 2);
});
beforeEach(async () => {
  await truncateAll({ orm });
  await createLegacyTables();
  await seedFixture();
});
afterAll(async () => {
  await dropLegacyTables();
  await orm.close(true);
});

describe('the audit prints coverage per pair and per student, each named', () => {
  it('per student: 4 of the 6 students with an active membership have an enrollment record (66.66%, rounded down)', async () => {
    const audit = await auditLegacyEnrollments(orm);
    expect(audit).toMatchObject({ students_with_active_membership: 6, students_with_any_enrollment: 4, student_coverage_percent: 66.66, coverage_percent: 14.28 });
    const report = formatAudit(audit);
    expect(report).toMatch(/^ {2}pair coverage \(pairs with an active enrollment \/ all pairs\): 14\.28%$/m);
    expect(report).toMatch(/^ {2}student coverage \(students with an enrollment record \/ students with an active membership, as the legacy script\): 66\.66%$/m);
  });

  it('100% per student when no student has an active membership', async () => {
    await sql(`update group_members set active = false`);
    expect(await auditLegacyEnrollments(orm)).toMatchObject({ students_with_active_membership: 0, student_coverage_percent: 100 });
  });

  it('npm run audit:enrollments prints both, and --json carries both', async () => {
    const text = await runCli('audit-enrollments', []);
    expect(text.stdout).toMatch(/pair coverage .*: 14\.28%/);
    expect(text.stdout).toMatch(/student coverage .*: 66\.66%/);
    const json = JSON.parse((await runCli('audit-enrollments', ['--json'])).stdout);
    expect(json).toMatchObject({ coverage_percent: 14.28, student_coverage_percent: 66.66 });
  }, CLI_TIMEOUT);
});
