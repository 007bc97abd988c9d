import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { App } from '../src/http/app.js';
import { resolveHeader } from '../src/imports/import-rows.js';
import type { Deps } from '../src/process/deps.js';
import { truncateAll } from './support/deps.js';
import { cleanCsv, createImportService, DIRTY_ROSTER, DIRTY_ROSTER_COUNTS, importCsv, jobErrors, waitForNoActiveJobs } from './support/imports.js';
import { rosterSnapshot } from './support/roster.js';
import type { TestService } from './support/service.js';

/** CONTRACT §3, the CSV import format, and a dry run (which reports what the same import does). */

let service: TestService;
let api: Deps;
let app: App;
beforeAll(async () => {
  service = await createImportService();
  ({ api, app } = service);
});
afterAll(() => service.close());
beforeEach(async () => {
  await waitForNoActiveJobs(api);
  await truncateAll(api);
});
const sql = <T = any>(q: string, params: unknown[] = []) => api.orm.em.getConnection().execute<T[]>(q, params);

describe('CSV import format (CONTRACT §3)', () => {
  it('reads a dirty export: BOM, CRLF, quotes, multi-line fields, unicode, blank lines, case variants, bad rows', async () => {
    const job = await importCsv(app, DIRTY_ROSTER);
    expect(job).toMatchObject({ type: 'import', status: 'completed_with_errors', counts: DIRTY_ROSTER_COUNTS, error: null });
    expect(job.progress).toEqual({ processed: 12, total: 12, percent: 100 });
    expect(job.warnings).toEqual(['legacy column "team_id" is ignored (teams were removed)', 'unknown column "Notes" is ignored']);
    expect(await jobErrors(app, job.id)).toEqual([
      { line: 10, column: 'email', code: 'invalid_email', message: expect.any(String), value: 'not-an-email' },
      { line: 11, column: 'name', code: 'name_required', message: expect.any(String), value: null },
      { line: 12, column: null, code: 'field_count', message: 'expected 7 fields, got 3', value: 'too,few,fields' },
      { line: 13, column: 'action', code: 'invalid_action', message: expect.any(String), value: 'bogus' },
      { line: 15, column: 'course_name', code: 'required', message: expect.any(String), value: '' },
    ]);
    expect(await rosterSnapshot(api)).toEqual({
      students: [
        { name: 'Ana Smith', email: 'ana@example.edu' },
        { name: 'Lee, Bo "Jr"', email: 'bo@example.edu' },
        { name: 'Multi\r\nLine Name', email: 'ml@example.edu' },
        { name: 'Zoë Ünicode', email: 'zoe@example.edu' },
      ],
      courses: [{ name: 'Art 1' }, { name: 'Math 101' }, { name: 'Physics 201' }],
      enrollments: [
        { email: 'ana@example.edu', course: 'math 101', active: false },
        { email: 'ana@example.edu', course: 'physics 201', active: false },
        { email: 'bo@example.edu', course: 'math 101', active: true },
        { email: 'ml@example.edu', course: 'physics 201', active: true },
        { email: 'zoe@example.edu', course: 'art 1', active: true },
      ],
    });
  });

  it('stores backslashes, tabs and a literal \\N exactly as the file has them', async () => {
    const job = await importCsv(app, 'name,email,course_name\n"Back\\slash\tTab",b\\s@x.io,C:\\Courses\n\\N,n@x.io,\\N\n');
    expect(job.counts).toMatchObject({ valid: 2, students_created: 2, enrollments_created: 2 });
    expect(await rosterSnapshot(api)).toEqual({
      students: [
        { name: 'Back\\slash\tTab', email: 'b\\s@x.io' },
        { name: '\\N', email: 'n@x.io' },
      ],
      courses: [{ name: '\\N' }, { name: 'C:\\Courses' }],
      enrollments: [
        { email: 'b\\s@x.io', course: 'c:\\courses', active: true },
        { email: 'n@x.io', course: '\\n', active: true },
      ],
    });
  });

  it('creates new courses and enrollments in file order (the first enrollment is the first row)', async () => {
    await importCsv(app, 'name,email,course_name\nAnn,a@x.io,Zoology\nAnn,a@x.io,Art\nBob,b@x.io,Music\n', 'mode=add');
    expect((await sql(`select name from courses order by id`)).map((r) => r.name)).toEqual(['Zoology', 'Art', 'Music']);
    const ann = await sql(
      `select c.name from course_enrollments e join courses c on c.id = e.course_id join students s on s.id = e.student_id
        where s.email = 'a@x.io' order by e.created_at, e.id`,
    );
    expect(ann.map((r) => r.name)).toEqual(['Zoology', 'Art']);
  });

  it('warns once for all the legacy team columns together and once per other unknown column', async () => {
    const header = resolveHeader({ line: 1, fields: ['email', ' Team_ID', 'Notes', 'course_name', 'team_name', 'TEAM_NUMBER', 'extra'] });
    expect(header.warnings).toEqual([
      'legacy columns "Team_ID", "team_name", "TEAM_NUMBER" are ignored (teams were removed)',
      'unknown column "Notes" is ignored',
      'unknown column "extra" is ignored',
    ]);
    expect(resolveHeader({ line: 1, fields: ['email', 'course_name'] }).warnings).toEqual([]);
    expect(resolveHeader({ line: 1, fields: ['x', 'team_number', 'email', 'course_name'] }).warnings).toEqual([
      'unknown column "x" is ignored',
      'legacy column "team_number" is ignored (teams were removed)',
    ]);
  });

  it('the same file again changes nothing and counts every valid row unchanged', async () => {
    await importCsv(app, DIRTY_ROSTER);
    const before = await rosterSnapshot(api);
    const again = await importCsv(app, DIRTY_ROSTER);
    // Row 8 moves Ana to Physics and row 14 deactivates it again: replayed, both still act.
    expect(again.counts).toMatchObject({ rows: 12, valid: 7, invalid: 5, students_created: 0, enrollments_created: 0 });
    expect(await rosterSnapshot(api)).toEqual(before);
    const clean = cleanCsv(50);
    await importCsv(app, clean);
    const cleanAgain = await importCsv(app, clean);
    expect(cleanAgain.counts).toMatchObject({ rows: 50, valid: 50, unchanged: 50, students_created: 0, enrollments_created: 0 });
  });

  it('mode=add keeps other enrollments; the action column overrides the mode per row', async () => {
    await importCsv(app, 'email,course_name,name\na@example.edu,Math,A\n');
    const added = await importCsv(app, 'email,course_name\na@example.edu,Art\n', 'mode=add');
    expect(added.counts).toMatchObject({ enrollments_created: 1, enrollments_deactivated: 0 });
    expect(added.options).toEqual({ mode: 'add', dry_run: false });
    const set = await importCsv(app, 'email,course_name,action\na@example.edu,Bio,SET\n', 'mode=add');
    expect(set.counts).toMatchObject({ enrollments_created: 1, enrollments_deactivated: 2 });
    expect((await rosterSnapshot(api)).enrollments.filter((e: any) => e.active)).toEqual([{ email: 'a@example.edu', course: 'bio', active: true }]);
  });

  it.each([
    ['an empty file', '', 'empty_file'],
    ['only blank lines', '\r\n\r\n  \n', 'empty_file'],
    ['a binary file', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]), 'not_csv'],
    ['a JSON file', '{"email": "a@example.edu", "course_name": "Math"}\n', 'missing_columns'],
    ['a header without course_name', 'name,email\nA,a@example.edu\n', 'missing_columns'],
    ['a header naming a column twice', 'email,course_name,EMAIL\na@example.edu,Math,b@example.edu\n', 'duplicate_column'],
    ['a quote never closed (near the end)', `${cleanCsv(200).trimEnd()}\n"Broken,b@example.edu,Math\nC,c@example.edu,Math\n`, 'csv_syntax'],
  ])('%s fails as a whole with a clear error and applies nothing', async (_label, body, code) => {
    const job = await importCsv(app, body);
    expect(job.status).toBe('failed');
    expect(job.error).toEqual({ code, message: expect.any(String) });
    expect(job.counts.rows).toBe(0);
    expect(await rosterSnapshot(api)).toEqual({ students: [], courses: [], enrollments: [] });
  });
});

describe('dry run', () => {
  it('reports exactly what the import then reports, and changes nothing', async () => {
    await importCsv(app, 'name,email,course_name\nOld,ana@example.edu,Old Course\nZed,zed@example.edu,Math 101\n');
    const before = await rosterSnapshot(api);
    const dry = await importCsv(app, DIRTY_ROSTER, 'dry_run=true');
    expect(await rosterSnapshot(api)).toEqual(before);
    const dryErrors = await jobErrors(app, dry.id);
    const real = await importCsv(app, DIRTY_ROSTER);
    expect(dry.status).toBe(real.status);
    expect(dry.counts).toEqual(real.counts);
    expect([dry.options, real.options]).toEqual([{ mode: 'set', dry_run: true }, { mode: 'set', dry_run: false }]);
    expect(dryErrors).toEqual(await jobErrors(app, real.id));
    expect(real.counts.students_updated).toBe(1); // "Old" is renamed Ana Smith
    expect(real.counts.enrollments_deactivated).toBe(3); // Ana's Old Course too
    const dryAgain = await importCsv(app, DIRTY_ROSTER, 'dry_run=true');
    const realAgain = await importCsv(app, DIRTY_ROSTER);
    expect(dryAgain.counts).toEqual(realAgain.counts);
  });
});
