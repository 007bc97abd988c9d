import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvLines, jobIdOf, startCliService, type CliService } from './support/cli.js';
import { waitFor } from './support/wait.js';

/** `enroll import --mode sync`, `enroll approve` and `enroll reject` (CONTRACT §7) against a real API and worker. */

let service: CliService;
const enroll: CliService['enroll'] = (...args) => service.enroll(...args);

/** The active (course, email) pairs, each with its source. */
async function roster(): Promise<string[]> {
  const rows = await service.sql<{ pair: string }>(
    `select c.name || ' ' || s.email || ' ' || coalesce(e.source, '-') as pair
       from course_enrollments e join students s on s.id = e.student_id join courses c on c.id = e.course_id
      where e.active order by 1`,
  );
  return rows.map((r) => r.pair);
}

const NIGHT0 = 'name,email,course_name\nAnn,ann@x.edu,Art\nBo,bo@x.edu,Art\nCy,cy@x.edu,Art\nDi,di@x.edu,Biology\nEd,ed@x.edu,Biology\n';
/** Bo left Art: 1 of the 3 enrollments active in Art, 1 of 5 in scope = 20 % > 10 %. */
const NIGHT1 = 'name,email,course_name\nAnn,ann@x.edu,Art\nCy,cy@x.edu,Art\nDi,di@x.edu,Biology\nEd,ed@x.edu,Biology\n';

beforeAll(async () => {
  service = await startCliService();
});
afterAll(async () => {
  await service?.stop();
});

describe('enroll import --mode sync', () => {
  it('applies a sync within its thresholds: its mode, scope, source and file name in the summary', async () => {
    const run = await enroll(['import', service.file('night0.csv', NIGHT0), '--mode', 'sync', '--source', 'sis', '--wait']);
    expect(run.stdout).toMatch(/^Job [0-9a-f-]{36} \(import\): completed in [\d.]+ s\n  file: night0\.csv\n  mode: sync, scope courses, source sis\n  rows: 5 \(5 valid, 0 invalid\)\n/);
    expect(run.code).toBe(0);
    const job = JSON.parse((await enroll(['status', jobIdOf(run.stdout)])).stdout);
    expect(job).toMatchObject({ file_name: 'night0.csv', options: { mode: 'sync', scope: 'courses', source: 'sis', max_deactivate_percent: 10, max_deactivate: null, max_invalid_percent: 10 } });
  });

  it('--dry-run reports what the sync would do and never holds', async () => {
    const before = await roster();
    const run = await enroll(['import', service.file('dry.csv', NIGHT1), '--mode', 'sync', '--source', 'sis', '--dry-run', '--wait']);
    expect(run.stdout).toContain('  dry run (mode sync, scope courses, source sis): nothing was changed; this is what the import would do:\n');
    expect(run.stdout).toContain('enrollments: 0 created, 0 activated, 1 deactivated');
    expect(run.stdout).not.toContain('held');
    expect(run.code).toBe(0);
    expect(await roster()).toEqual(before);
  });

  it('past a threshold: held, its figures printed, nothing applied, exit 4; its changes show what it would do', async () => {
    const before = await roster();
    const run = await enroll(['import', service.file('night1.csv', NIGHT1), '--mode', 'sync', '--source', 'sis', '--wait']);
    const id = jobIdOf(run.stdout);
    expect(run.stderr).toMatch(/^processing: .*awaiting_approval$/m);
    expect(run.stdout).toMatch(/\(import\): awaiting_approval\n/);
    expect(run.stdout).toContain(
      [
        '  held: 1 deactivations of 5 enrollments active in scope (20%), above max_deactivate_percent 10',
        '  nothing was applied: the counts are what the sync would do',
        `  what it would change: enroll changes ${id}`,
        `  then: enroll approve ${id}, or enroll reject ${id}`,
      ].join('\n'),
    );
    expect(run.code).toBe(4);
    expect(await roster()).toEqual(before);

    const changes = await enroll(['changes', id]);
    expect(csvLines(changes.stdout)).toEqual(['seq,kind,student_id,email,course_id,course_name,before,after,line', '1,enrollment_deactivated,2,bo@x.edu,1,Art,true,false,']);

    // Approved: applied to the roster as it is now.
    const approved = await enroll(['approve', id, '--wait']);
    expect(approved.stderr).toContain(`approved job ${id}\n`);
    expect(approved.stdout).toMatch(/\(import\): completed in/);
    expect(approved.code).toBe(0);
    expect(await roster()).toEqual(before.filter((p) => p !== 'Art bo@x.edu sis'));

    const again = await enroll(['approve', id]);
    expect(again).toMatchObject({ code: 2, stderr: `enroll: job ${id} is completed, not awaiting approval (HTTP 409 conflict)\n` });
  });

  it('an approval that would now deactivate more holds again (exit 4); reject ends a hold (exit 0), applying nothing', async () => {
    const night2 = 'name,email,course_name\nAnn,ann@x.edu,Art\nDi,di@x.edu,Biology\nEd,ed@x.edu,Biology\n'; // Cy left Art
    const held = await enroll(['import', service.file('night2.csv', night2), '--mode', 'sync', '--source', 'sis', '--max-deactivate', '0', '--max-deactivate-percent', '100', '--wait']);
    expect(held.stdout).toContain('  held: 1 deactivations of 4 enrollments active in scope (25%), above max_deactivate 0\n');
    expect(held.code).toBe(4);
    const id = jobIdOf(held.stdout);

    // Meanwhile the feed enrolls Fay in Art by a single command: the sync would now sweep her too.
    const fay = await fetch(`${service.url}/api/v1/admin/enrollments`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${service.config.adminToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ email: 'fay@x.edu', name: 'Fay', course_name: 'Art', action: 'add', source: 'sis' }),
    });
    expect(fay.status).toBe(202);
    const { job_id: fayJob } = (await fay.json()) as { job_id: string };
    await waitFor('the command to finish', async () => JSON.parse((await enroll(['status', fayJob])).stdout).status === 'completed', { timeoutMs: 20_000, everyMs: 200 });
    const before = await roster();
    expect(before).toContain('Art fay@x.edu sis');

    const approved = await enroll(['approve', id, '--wait']);
    expect(approved.stdout).toContain('  held: 2 deactivations of 5 enrollments active in scope (40%), above max_deactivate 1\n');
    expect(approved.code).toBe(4);

    const rejected = await enroll(['reject', id]);
    expect(rejected).toMatchObject({ code: 0, stdout: `Job ${id} (import): rejected, nothing was applied\n` });
    expect(await roster()).toEqual(before);
    expect(JSON.parse((await enroll(['status', id])).stdout).status).toBe('rejected');
    expect((await enroll(['reject', id])).code).toBe(2);
  });

  it('too many invalid rows hold it (max_invalid_percent); --scope all and --filename reach the job', async () => {
    const dirty = 'name,email,course_name\nAnn,ann@x.edu,Art\nX,not-an-email,Art\n';
    const run = await enroll(['import', '-', '--mode', 'sync', '--scope', 'all', '--source', 'sis', '--max-deactivate-percent', '100', '--filename', 'sis export.csv', '--wait'], {}, dirty);
    expect(run.stdout).toContain('  file: sis export.csv\n  mode: sync, scope all, source sis\n');
    expect(run.stdout).toContain('  held: 1 invalid of 2 rows (50%), above max_invalid_percent 10\n');
    expect(run.stdout).toContain('First 1 row errors of 1:\n  line 3, email: ');
    expect(run.code).toBe(4);
    expect((await enroll(['reject', jobIdOf(run.stdout)])).code).toBe(0);
  });

  it('a sync without a valid row fails (empty_sync): exit 2', async () => {
    const run = await enroll(['import', service.file('empty.csv', 'name,email,course_name\nX,bad,Art\n'), '--mode', 'sync', '--wait']);
    expect(run.stdout).toMatch(/\(import\): failed/);
    expect(run.stdout).toContain('  error: the sync file has no valid row: nothing was changed [empty_sync]\n');
    expect(run.code).toBe(2);
  });

  it.each([
    [['import', 'x.csv', '--scope', 'all'], '--scope is an option of --mode sync only'],
    [['import', 'x.csv', '--mode', 'add', '--max-deactivate', '3'], '--max-deactivate is an option of --mode sync only'],
    [['import', 'x.csv', '--mode', 'sync', '--scope', 'school'], '--scope must be courses or all, not school'],
    [['import', 'x.csv', '--mode', 'sync', '--max-deactivate-percent', '101'], '--max-deactivate-percent must be a number from 0 to 100, not 101'],
    [['import', 'x.csv', '--mode', 'sync', '--max-invalid-percent', 'ten'], '--max-invalid-percent must be a number from 0 to 100, not ten'],
    [['import', 'x.csv', '--mode', 'sync', '--max-deactivate=-1'], '--max-deactivate must be a whole number, not -1'],
    [['import', 'x.csv', '--mode', 'sync', '--max-deactivate', '-1'], "Option '--max-deactivate' argument is ambiguous. Did you forget"],
    [['import', 'x.csv', '--source', 'SIS Nightly'], '--source must be 1 to 64 characters of a-z, 0-9'],
    [['approve'], 'missing JOB_ID'],
    [['reject', 'x', '--wait'], '--wait is an option of import, revert and approve only'],
  ])('usage error %j exits 64 before uploading anything', async (args, message) => {
    const run = await enroll(args);
    expect(run.stderr).toContain(message);
    expect(run.code).toBe(64);
  });
});
