import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drainCommandJobs } from '../src/commands/command-apply.service.js';
import type { Deps } from '../src/process/deps.js';
import { acceptImport } from '../src/imports/import-accept.service.js';
import { runImport } from '../src/imports/import.service.js';
import { truncateAll } from './support/deps.js';
import { expectCountsMatchChanges } from './support/history.js';
import { send, waitForJob } from './support/jobs.js';
import { captureLogs } from './support/logs.js';
import { rosterSnapshot } from './support/roster.js';
import { createTestService, type TestService } from './support/service.js';

/**
 * CONTRACT §2 with commands in between: an import plans its whole file once, at a roster version;
 * a command applied between two of its parts changes the roster they were planned on, so every
 * part after it is planned again inside its own transaction (import-parts.ts). Commands on pairs
 * the file does not name leave the import's outcome exactly as if they had not been there.
 */

let service: TestService;
let deps: Deps;
beforeAll(async () => {
  service = await createTestService();
  deps = service.workerDeps;
});
afterAll(() => service.close());

// 3 rows each: 12,000 planned rows, three transactions of parts (import-parts.ts, UNIT_WORK), the
// third of which starts after a command has certainly had its turn at the apply lock.
const STUDENTS = 4_000;
const csvOf = (rows: string[]) => `name,email,course_name,action\n${rows.join('\n')}\n`;

async function accept(csv: string) {
  const accepted = await acceptImport(deps, {
    source: (async function* () {
      yield Buffer.from(csv);
    })(),
    options: { mode: 'add', dryRun: false, source: null, fileName: null, sync: null },
    idempotencyKey: null,
  });
  return accepted.body.job_id;
}

describe('commands between the parts of an import', () => {
  it('make the parts after them plan again; the import does what it would have done alone', async () => {
    await truncateAll(deps);
    // The roster before: every student in Math.
    const seed = await accept(csvOf(Array.from({ length: STUDENTS }, (_, i) => `S ${i},s${i}@x.edu,Math,add`)));
    await runImport(deps.orm, seed, { stopping: () => false, batchRows: 500, writers: 1 });

    // The file: a rename, a new course, a deactivation and a new student, for every student.
    const rows = Array.from({ length: STUDENTS }, (_, i) => [`Renamed ${i},s${i}@x.edu,Art,add`, `,s${i}@x.edu,Math,deactivate`, `New ${i},n${i}@x.edu,Art,add`]).flat();
    const job = await accept(csvOf(rows));
    // Meanwhile, commands on a course the file does not name, one after another until the import ends.
    const { lines, logger } = captureLogs();
    let importing = true;
    let commands = 0;
    const pump = (async () => {
      while (importing) {
        const res = await send(service.app, 'POST', '/admin/enrollments', { email: `s${commands % STUDENTS}@x.edu`, course_name: 'Chess', action: 'add' });
        expect(res.status).toBe(202);
        await drainCommandJobs(deps.orm, logger('warn'));
        commands++;
      }
    })();
    await runImport(deps.orm, job, { stopping: () => false, batchRows: 100, writers: 2, log: logger('info') });
    importing = false;
    await pump;

    const view = await waitForJob(service.app, job);
    expect(view.counts).toEqual({
      rows: 3 * STUDENTS,
      valid: 3 * STUDENTS,
      invalid: 0,
      students_created: STUDENTS,
      students_updated: STUDENTS,
      enrollments_created: 2 * STUDENTS,
      enrollments_activated: 0,
      enrollments_deactivated: STUDENTS,
      unchanged: 0,
    });
    await expectCountsMatchChanges(service.app, view);
    const replanned = lines.find((l) => l.msg === 'import parts planned again: the roster changed since the plan');
    expect(replanned, 'no part was planned again: the commands did not land between the parts').toBeDefined();
    expect(replanned!.replanned).toBeGreaterThan(0);

    const roster = await rosterSnapshot(deps);
    type Enrollment = { email: string; course: string; active: boolean };
    const sorted = (list: Enrollment[]) => [...list].sort((a, b) => (`${a.email} ${a.course}` < `${b.email} ${b.course}` ? -1 : 1));
    const enrollments = roster.enrollments as Enrollment[];
    expect(enrollments.filter((e) => e.course === 'chess')).toHaveLength(Math.min(commands, STUDENTS));
    expect(sorted(enrollments.filter((e) => e.course !== 'chess'))).toEqual(
      sorted([
        ...Array.from({ length: STUDENTS }, (_, i) => ({ email: `n${i}@x.edu`, course: 'art', active: true })),
        ...Array.from({ length: STUDENTS }, (_, i) => [
          { email: `s${i}@x.edu`, course: 'art', active: true },
          { email: `s${i}@x.edu`, course: 'math', active: false },
        ]).flat(),
      ]),
    );
    const students = roster.students as Array<{ name: string; email: string }>;
    expect(students.filter((s) => s.email.startsWith('s')).map((s) => s.name.replace(/\d+$/, ''))).toEqual(Array(STUDENTS).fill('Renamed '));
  }, 60_000);
});
