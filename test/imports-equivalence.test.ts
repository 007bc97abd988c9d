import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { zeroCounts, type Counts } from '../src/domain/counts.js';
import type { Deps } from '../src/process/deps.js';
import { createApp, type App } from '../src/http/app.js';
import { acceptImport } from '../src/imports/import-accept.service.js';
import { runImport } from '../src/imports/import.service.js';
import { createImportWorker } from '../workers/imports.worker.js';
import { startRelay } from '../src/jobs/relay.js';
import type { RunningWorker } from '../workers/running-worker.js';
import { createTestDeps, truncateAll } from './support/deps.js';
import { testConfig } from './support/env.js';
import { jobErrors, uploadCsv } from './support/imports.js';
import { expectCountsMatchChanges } from './support/history.js';
import { waitForJob } from './support/jobs.js';
import { rosterSnapshot } from './support/roster.js';

/**
 * CONTRACT §2: an import means applying its valid rows one by one, in file order. A reference
 * model written here, row by row over plain maps (no domain code), is compared with the staged
 * path (random part sizes and numbers of writers) on random row sequences that collide on purpose:
 * few emails and courses in several letter cases, mixed actions and statuses, missing names,
 * invalid values.
 */

type Row = { name: string; email: string; course_name: string; action: string; status: string };
const COLUMNS = ['name', 'email', 'course_name', 'action', 'status'] as const;

const rowArb: fc.Arbitrary<Row> = fc
  .record({
    name: fc.constantFrom('', 'Ann', 'Bob', ' Ann ', 'Zoë'),
    email: fc.constantFrom('a@x.io', 'A@X.io', ' b@x.io ', 'B@x.IO', 'c@x.io', 'bad-email'),
    course_name: fc.constantFrom('Math', 'MATH', ' math ', 'Art', 'art', 'Bio', ''),
    action: fc.constantFrom('', '', 'set', 'ADD', 'deactivate', 'bogus'),
    status: fc.constantFrom('', '', 'active', 'Inactive', 'deleted', 'weird'),
  })
  // An explicit action with status=active is left out: the contract does not say which wins.
  .filter((r) => !(r.action.trim() && r.status.trim().toLowerCase() === 'active'));

type ModelResult = {
  counts: Counts;
  errors: Array<{ line: number; code: string }>;
  students: Array<{ name: string; email: string }>;
  courses: Array<{ name: string }>;
  enrollments: Array<{ email: string; course: string; active: boolean }>;
};

/** An import that ran before the one compared: the roster it leaves is where the model starts. */
type Prior = { rows: Row[]; mode: 'set' | 'add' };

/** The reference: CONTRACT §2 and §3 applied to one row at a time (after the rows of `prior`, not counted). */
function model(rows: Row[], mode: 'set' | 'add', prior: Prior | null = null): ModelResult {
  const students = new Map<string, { name: string; email: string }>();
  const courses = new Map<string, string>();
  const enrollments = new Map<string, Map<string, boolean>>(); // email key -> course key -> active
  if (prior) apply(prior.rows, prior.mode, zeroCounts(), []);
  const counts = zeroCounts();
  const errors: ModelResult['errors'] = [];
  apply(rows, mode, counts, errors);
  const byKey = <T,>(entries: Array<[string, T]>) => entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
  return {
    counts,
    errors,
    students: byKey([...students].map(([k, s]) => [k, { name: s.name, email: s.email }])),
    courses: byKey([...courses].map(([k, name]) => [k, { name }])),
    enrollments: byKey(
      [...enrollments].flatMap(([email, mine]) =>
        [...mine].map(([course, active]) => [`${email}\u0000${course}`, { email, course, active }] as [string, { email: string; course: string; active: boolean }]),
      ),
    ),
  };

  function apply(rows: Row[], mode: 'set' | 'add', counts: Counts, errors: ModelResult['errors']): void {
    rows.forEach((r, i) => {
      const line = i + 2;
      const email = r.email.trim();
      const course = r.course_name.trim();
      const name = r.name.trim();
      const action = r.action.trim().toLowerCase();
      const status = r.status.trim().toLowerCase();
      const invalid: string[] = [];
      if (!email.includes('@')) invalid.push('invalid_email');
      if (!course) invalid.push('required');
      if (action && !['set', 'add', 'deactivate'].includes(action)) invalid.push('invalid_action');
      else if (status && !['active', 'inactive', 'deleted'].includes(status)) invalid.push('invalid_status');
      if (invalid.length) {
        counts.rows++;
        counts.invalid++;
        for (const code of invalid) errors.push({ line, code });
        return;
      }
      const act = status === 'inactive' || status === 'deleted' ? 'deactivate' : action || mode;
      const ek = email.toLowerCase();
      const ck = course.toLowerCase();
      let student = students.get(ek);
      const before = { ...counts };
      if (!student) {
        if (act !== 'deactivate') {
          if (!name) {
            counts.rows++;
            counts.invalid++;
            errors.push({ line, code: 'name_required' });
            return;
          }
          student = { name, email };
          students.set(ek, student);
          enrollments.set(ek, new Map());
          counts.students_created++;
        }
      } else if (name && name !== student.name) {
        student.name = name;
        counts.students_updated++;
      }
      if (student) {
        const mine = enrollments.get(ek)!;
        if (act === 'deactivate') {
          if (mine.get(ck) === true) {
            mine.set(ck, false);
            counts.enrollments_deactivated++;
          }
        } else {
          if (!courses.has(ck)) courses.set(ck, course);
          if (!mine.has(ck)) counts.enrollments_created++;
          else if (!mine.get(ck)) counts.enrollments_activated++;
          mine.set(ck, true);
          if (act === 'set') {
            for (const [other, active] of mine) {
              if (other !== ck && active) {
                mine.set(other, false);
                counts.enrollments_deactivated++;
              }
            }
          }
        }
      }
      counts.rows++;
      counts.valid++;
      const changed = (Object.keys(counts) as Array<keyof Counts>).some((k) => k !== 'rows' && k !== 'valid' && counts[k] !== before[k]);
      if (!changed) counts.unchanged++;
    });
  }
}

const quote = (s: string) => (/[",\r\n]|^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
const csvOf = (rows: Row[]) => `\ufeff${COLUMNS.join(',')}\r\n${rows.map((r) => COLUMNS.map((c) => quote(r[c])).join(',')).join('\r\n')}\r\n`;

let deps: Deps;
let app: App;
beforeAll(async () => {
  deps = await createTestDeps('worker', testConfig());
  app = createApp(deps);
});
afterAll(() => deps.close());

/** Accepts the CSV as the API does and runs the import to its end in this process, with `control`'s parts and writers. */
async function importHere(csv: string, mode: 'set' | 'add', control: { batchRows: number; writers: number }) {
  const accepted = await acceptImport(deps, {
    source: (async function* () {
      yield Buffer.from(csv);
    })(),
    options: { mode, dryRun: false, source: null, fileName: null, sync: null },
    idempotencyKey: null,
  });
  await runImport(deps.orm, accepted.body.job_id, { stopping: () => false, ...control });
  return waitForJob(app, accepted.body.job_id);
}

describe('a staged import = row-by-row application (CONTRACT §2)', () => {
  it('gives identical tables, counts, row errors and history for any part size and any number of writers', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(rowArb, { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 3 }),
        fc.constantFrom('set' as const, 'add' as const),
        async (rows, batchRows, writers, mode) => {
          await truncateAll(deps);
          const job = await importHere(csvOf(rows), mode, { batchRows, writers });
          const expected = model(rows, mode);
          expect(job.counts).toEqual(expected.counts);
          expect((await jobErrors(app, job.id)).map((e) => ({ line: e.line, code: e.code }))).toEqual(expected.errors);
          expect(await rosterSnapshot(deps)).toEqual({ students: expected.students, courses: expected.courses, enrollments: expected.enrollments });
          await expectCountsMatchChanges(app, job);
        },
      ),
      { numRuns: 150 },
    );
  }, 240_000);

  it('does the same on top of a roster an earlier import left: its set rows meet enrollments of other courses', async () => {
    // Always tried first: a student in two active courses, then named once by a set row.
    const row = (email: string, course_name: string, action: string): Row => ({ name: 'Ann', email, course_name, action, status: '' });
    const twoCoursesThenSetOne: [Prior, Row[], number, number, 'set' | 'add'] = [
      { rows: [row('a@x.io', 'Math', 'add'), row('a@x.io', 'Art', 'add')], mode: 'add' },
      [row('A@x.io', 'math', '')],
      5,
      2,
      'set',
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.record({ rows: fc.array(rowArb, { minLength: 1, maxLength: 20 }), mode: fc.constantFrom('set' as const, 'add' as const) }),
        // Short files: a student is often named once, which the plan (not the fold) decides.
        fc.array(rowArb, { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 3 }),
        fc.constantFrom('set' as const, 'add' as const),
        async (prior, rows, batchRows, writers, mode) => {
          await truncateAll(deps);
          await importHere(csvOf(prior.rows), prior.mode, { batchRows: 5, writers: 1 });
          const job = await importHere(csvOf(rows), mode, { batchRows, writers });
          const expected = model(rows, mode, prior);
          expect(job.counts).toEqual(expected.counts);
          expect((await jobErrors(app, job.id)).map((e) => ({ line: e.line, code: e.code }))).toEqual(expected.errors);
          expect(await rosterSnapshot(deps)).toEqual({ students: expected.students, courses: expected.courses, enrollments: expected.enrollments });
          await expectCountsMatchChanges(app, job);
        },
      ),
      { numRuns: 100, examples: [twoCoursesThenSetOne] },
    );
  }, 240_000);
});

describe('end to end through CSV text, the upload and the worker', () => {
  let api: Deps;
  let app: App;
  let worker: RunningWorker;
  let workerDeps: Deps;
  let relay: RunningWorker;
  beforeAll(async () => {
    const config = testConfig();
    api = await createTestDeps('api', config);
    workerDeps = await createTestDeps('worker', config);
    worker = createImportWorker(workerDeps, { batchRows: 3 });
    relay = startRelay(workerDeps);
    app = createApp(api);
  });
  afterAll(async () => {
    await Promise.all([worker.close(), relay.close()]);
    await workerDeps.close();
    await api.queues.imports.obliterate({ force: true });
    await api.close();
  });

  it('gives the reference result for random files', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(rowArb, { minLength: 1, maxLength: 25 }), fc.constantFrom('set' as const, 'add' as const), async (rows, mode) => {
        await truncateAll(api);
        const res = await uploadCsv(app, csvOf(rows), { query: `mode=${mode}` });
        const job = await waitForJob(app, res.body.job_id);
        const expected = model(rows, mode);
        expect(job.counts).toEqual(expected.counts);
        expect((await jobErrors(app, job.id)).map((e) => ({ line: e.line, code: e.code }))).toEqual(expected.errors);
        expect(await rosterSnapshot(api)).toEqual({ students: expected.students, courses: expected.courses, enrollments: expected.enrollments });
      }),
      { numRuns: 15 },
    );
  }, 60_000);
});
