import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvLines, jobIdOf, startCliService, type CliService } from './support/cli.js';

/** `enroll changes`, `enroll revert` and `enroll history` (CONTRACT §6) against a real API and worker. */

let service: CliService;
const enroll: CliService['enroll'] = (...args) => service.enroll(...args);

/** Each student's active courses, by email. */
async function activeCourses(): Promise<Record<string, string[]>> {
  const rows = await service.sql<{ email: string; courses: string[] }>(
    `select s.email, coalesce(array_agg(c.name order by c.name) filter (where e.active), '{}') as courses
       from students s left join course_enrollments e on e.student_id = s.id left join courses c on c.id = e.course_id
      group by s.email order by s.email`,
  );
  return Object.fromEntries(rows.map((r) => [r.email, r.courses]));
}

const nameOf = async (email: string) => (await service.sql<{ name: string }>(`select name from students where email = ?`, [email]))[0]?.name;

/** Imports a file (mode set) and waits: returns its job id. */
async function imported(name: string, csv: string): Promise<string> {
  const run = await enroll(['import', service.file(name, csv), '--wait']);
  expect(run.code).toBe(0);
  return jobIdOf(run.stdout);
}

let first: string;
let second: string;

beforeAll(async () => {
  service = await startCliService();
  first = await imported('first.csv', 'name,email,course_name\nAnn,ann@x.edu,Art\nBo,bo@x.edu,Biology\n');
  // Moves Ann to Chemistry (a set), renames Bo.
  second = await imported('second.csv', 'name,email,course_name\nAnn,ann@x.edu,Chemistry\nBob,bo@x.edu,Biology\n');
});
afterAll(async () => {
  await service?.stop();
});

describe('enroll changes', () => {
  it('prints every change of the job as CSV, in the order they were made', async () => {
    const run = await enroll(['changes', second], { ENROLL_TOKEN: service.config.readToken });
    expect(run.code).toBe(0);
    expect(csvLines(run.stdout)).toEqual([
      'seq,kind,student_id,email,course_id,course_name,before,after,line',
      '1,enrollment_created,1,ann@x.edu,3,Chemistry,,true,2',
      '2,enrollment_deactivated,1,ann@x.edu,1,Art,true,false,2',
      '3,student_renamed,2,bo@x.edu,,,Bo,Bob,3',
    ]);
  });

  it('--kind and --course-id filter them', async () => {
    const kind = await enroll(['changes', second, '--kind', 'student_renamed']);
    // `seq` is the position in the list as filtered.
    expect(csvLines(kind.stdout).slice(1)).toEqual(['1,student_renamed,2,bo@x.edu,,,Bo,Bob,3']);
    const course = await enroll(['changes', first, '--course-id', '2']);
    expect(csvLines(course.stdout).slice(1)).toEqual(['1,enrollment_created,2,bo@x.edu,2,Biology,,true,3']);
  });

  it.each([
    [['changes'], 'missing JOB_ID'],
    [['changes', 'x', '--kind', 'renamed'], '--kind must be one of student_created, student_renamed'],
    [['changes', 'x', '--course-id', '0'], '--course-id must be a positive integer, not 0'],
    [['changes', 'x', '--force'], '--force is an option of revert only'],
    [['history', 'x'], 'STUDENT_ID must be a positive integer, not x'],
    [['history', '1', '--kind', 'student_created'], '--kind is an option of changes only'],
    [['revert', 'a', 'b'], 'too many arguments'],
  ])('usage error %j exits 64', async (args, message) => {
    const run = await enroll(args);
    expect(run.stderr).toContain(message);
    expect(run.code).toBe(64);
  });

  it('an unknown job is the API’s 404 on one line, exit 2', async () => {
    const run = await enroll(['changes', '00000000-0000-4000-8000-000000000000']);
    expect(run).toMatchObject({ code: 2, stdout: '', stderr: 'enroll: no job 00000000-0000-4000-8000-000000000000 (HTTP 404 not_found)\n' });
  });
});

describe('enroll revert', () => {
  it('--dry-run --force --wait says what it would do and changes nothing', async () => {
    const before = await activeCourses();
    const run = await enroll(['revert', second, '--dry-run', '--force', '--wait']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Job [0-9a-f-]{36} \(revert\): completed/);
    expect(run.stdout).toContain(`  reverts: ${second} (force: values changed since are restored too)\n  dry run: nothing was changed; this is what the revert would do:\n`);
    expect(run.stdout).toContain('enrollments: 0 created, 1 activated, 1 deactivated');
    expect(await activeCourses()).toEqual(before);
    // Its would-be changes are listed like a job's changes.
    const changes = await enroll(['changes', jobIdOf(run.stdout)]);
    expect(csvLines(changes.stdout)).toHaveLength(4);
  });

  it('--wait: a value a later job changed again is a conflict, left as it is and listed; exit 1', async () => {
    // A later command renames Bo again: the rename of `second` is no longer its own to undo.
    const later = await enroll(['import', service.file('later.csv', 'name,email,course_name,action\nRobert,bo@x.edu,Biology,add\n'), '--wait']);
    const laterId = jobIdOf(later.stdout);
    const run = await enroll(['revert', second, '--wait']);
    expect(run.stderr).toMatch(/^accepted as job [0-9a-f-]{36}$/m);
    expect(run.stdout).toMatch(/\(revert\): completed_with_errors/);
    expect(run.stdout).toContain(`  reverts: ${second}\n  rows: 3 (2 valid, 1 invalid)\n`);
    expect(run.stdout).toContain('First 1 conflicts (values left as they are) of 1:\n');
    expect(run.stdout).toContain(`  line 3, name: changed since by job ${laterId}: left as it is [changed_since] (value: "${laterId}")\n`);
    expect(run.code).toBe(1);
    expect(await activeCourses()).toEqual({ 'ann@x.edu': ['Art'], 'bo@x.edu': ['Biology'] });
    expect(await nameOf('bo@x.edu')).toBe('Robert');

    const status = JSON.parse((await enroll(['status', second])).stdout);
    expect(status.reverted_by).toBe(jobIdOf(run.stdout));
  });

  it('without --wait prints the revert job id; a job reverted already is the API’s 409, exit 2', async () => {
    const again = await enroll(['revert', second]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(new RegExp(`^enroll: job ${second} is already reverted by job [0-9a-f-]{36} \\(HTTP 409 conflict\\)\\n$`));

    const run = await enroll(['revert', first]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^[0-9a-f-]{36}\n$/);
    expect(run.stdout.trim()).not.toBe(first);
  });

  it('the read token may not revert: exit 2', async () => {
    const run = await enroll(['revert', first, '--dry-run'], { ENROLL_TOKEN: service.config.readToken });
    expect(run).toMatchObject({ code: 2, stderr: expect.stringContaining('HTTP 403 forbidden') });
  });
});

describe('enroll history', () => {
  it('prints the student’s changes newest first, each with its job, as CSV', async () => {
    const [bo] = await service.sql<{ id: string }>(`select id from students where email = 'bo@x.edu'`);
    const run = await enroll(['history', String(bo!.id)], { ENROLL_TOKEN: service.config.readToken });
    expect(run.code).toBe(0);
    const lines = csvLines(run.stdout);
    expect(lines[0]).toBe('at,job_id,job_type,kind,student_id,email,course_id,course_name,before,after,line');
    const rows = lines.slice(1).map((l) => l.split(','));
    // Newest first: ...the later rename, the rename of `second`, then the creations of `first`.
    expect(rows.map((r) => [r[2], r[3], r[8], r[9]])).toEqual(
      expect.arrayContaining([
        ['import', 'student_renamed', 'Bob', 'Robert'],
        ['import', 'student_renamed', 'Bo', 'Bob'],
        ['import', 'enrollment_created', '', 'true'],
        ['import', 'student_created', '', 'Bo'],
      ]),
    );
    expect(rows.at(-1)!.slice(1, 4)).toEqual([first, 'import', 'student_created']);
    const times = rows.map((r) => Date.parse(r[0]!));
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });

  it('an unknown student is the API’s 404, exit 2', async () => {
    const run = await enroll(['history', '999999']);
    expect(run).toMatchObject({ code: 2, stderr: 'enroll: no student with id 999999 (HTTP 404 not_found)\n' });
  });
});
