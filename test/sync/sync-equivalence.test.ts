import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { zeroCounts, type Counts } from '../../src/domain/counts.js';
import { createApp, type App } from '../../src/http/app.js';
import { acceptImport } from '../../src/imports/import-accept.service.js';
import { runImport } from '../../src/imports/import.service.js';
import type { Deps } from '../../src/process/deps.js';
import { createTestDeps, truncateAll } from '../support/deps.js';
import { testConfig } from '../support/env.js';
import { expectCountsMatchChanges } from '../support/history.js';
import { jobErrors } from '../support/imports.js';
import { send, waitForJob } from '../support/jobs.js';

/**
 * CONTRACT §7: a roster sync applies its rows one by one in file order (a row without an action is
 * an `add`), then sweeps every enrollment that is active, in scope and not named by the file. A
 * reference written here over plain maps is compared with the service on random existing rosters
 * (enrollments made by hand, by this feed and by another) and random files: drops, moves,
 * additions, duplicates, letter cases, invalid rows that still name their pair; both scopes, with
 * and without a source. A sync past a threshold is approved, and must then apply the same.
 */

type Row = { name: string; email: string; course_name: string; action: string };
type Seeded = { email: string; course: string; active: boolean; source: string | null };

const EMAILS = ['a@x.io', 'A@X.io', 'b@x.io', ' B@x.IO ', 'c@x.io', 'd@x.io', 'bad-email'];
const COURSES = ['Math', 'MATH', 'Art', ' art ', 'Bio', 'Chem', ''];
const rowArb: fc.Arbitrary<Row> = fc.record({
  name: fc.constantFrom('', 'Ann', 'Bob', 'Zoë'),
  email: fc.constantFrom(...EMAILS),
  course_name: fc.constantFrom(...COURSES),
  action: fc.constantFrom('', '', '', '', 'add', 'deactivate', 'set', 'bogus'),
});
const seededArb: fc.Arbitrary<Seeded[]> = fc.uniqueArray(
  fc.record({
    email: fc.constantFrom('a@x.io', 'b@x.io', 'c@x.io', 'e@x.io'),
    course: fc.constantFrom('Math', 'Art', 'Bio', 'Geo'),
    active: fc.boolean(),
    source: fc.constantFrom(null, 'sis', 'other'),
  }),
  { selector: (s) => `${s.email}|${s.course}`, maxLength: 10 },
);

type State = { students: Map<string, string>; courses: Map<string, string>; enrollments: Map<string, { active: boolean; source: string | null }> };

/** The reference: the rows of CONTRACT §2 one by one (sync: no action means add), then the sweep of §7. */
function model(seeded: Seeded[], rows: Row[], opts: { scope: 'courses' | 'all'; source: string | null }) {
  const state: State = { students: new Map(), courses: new Map(), enrollments: new Map() };
  for (const s of seeded) {
    state.students.set(s.email, `Seed ${s.email}`);
    state.courses.set(s.course.toLowerCase(), s.course);
    state.enrollments.set(`${s.email}|${s.course.toLowerCase()}`, { active: s.active, source: s.source });
  }
  const counts = zeroCounts();
  const errors: Array<{ line: number; code: string }> = [];
  const named = new Set<string>();
  const mineOf = (ek: string) => [...state.enrollments].filter(([k]) => k.startsWith(`${ek}|`));
  rows.forEach((r, i) => {
    const line = i + 2;
    const email = r.email.trim();
    const course = r.course_name.trim();
    const name = r.name.trim();
    const action = r.action.trim().toLowerCase();
    const ek = email.toLowerCase();
    const ck = course.toLowerCase();
    const invalid: string[] = [];
    if (!email.includes('@')) invalid.push('invalid_email');
    if (!course) invalid.push('required');
    if (email.includes('@') && course) named.add(`${ek}|${ck}`);
    if (action && !['set', 'add', 'deactivate'].includes(action)) invalid.push('invalid_action');
    counts.rows++;
    if (invalid.length) {
      counts.invalid++;
      for (const code of invalid) errors.push({ line, code });
      return;
    }
    const act = action || 'add';
    const before = { ...counts };
    if (!state.students.has(ek)) {
      if (act === 'deactivate') {
        counts.valid++;
        counts.unchanged++;
        return;
      }
      if (!name) {
        counts.invalid++;
        errors.push({ line, code: 'name_required' });
        return;
      }
      state.students.set(ek, name);
      counts.students_created++;
    } else if (name && name !== state.students.get(ek)) {
      state.students.set(ek, name);
      counts.students_updated++;
    }
    const key = `${ek}|${ck}`;
    const mine = state.enrollments.get(key);
    if (act === 'deactivate') {
      if (mine?.active) {
        mine.active = false;
        counts.enrollments_deactivated++;
      }
    } else {
      if (!state.courses.has(ck)) state.courses.set(ck, course);
      if (!mine) counts.enrollments_created++;
      else if (!mine.active) counts.enrollments_activated++;
      state.enrollments.set(key, { active: true, source: opts.source });
      if (act === 'set') {
        for (const [other, e] of mineOf(ek)) {
          if (other !== key && e.active) {
            e.active = false;
            counts.enrollments_deactivated++;
          }
        }
      }
    }
    counts.valid++;
    const changed = (Object.keys(counts) as Array<keyof Counts>).some((k) => !['rows', 'valid'].includes(k) && counts[k] !== before[k]);
    if (!changed) counts.unchanged++;
  });
  const scopeCourses = new Set([...named].map((k) => k.split('|')[1]!));
  for (const [key, e] of state.enrollments) {
    const ck = key.split('|')[1]!;
    const inScope = opts.scope === 'all' || scopeCourses.has(ck);
    if (e.active && inScope && (opts.source === null || e.source === opts.source) && !named.has(key)) {
      e.active = false;
      counts.enrollments_deactivated++;
    }
  }
  const sorted = <T,>(m: Map<string, T>) => [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    counts,
    errors,
    enrollments: sorted(state.enrollments).map(([k, e]) => ({ key: k, active: e.active, source: e.source })),
    students: sorted(state.students).map(([ek, name]) => ({ email: ek, name })),
  };
}

let deps: Deps;
let app: App;
beforeAll(async () => {
  deps = await createTestDeps('worker', testConfig());
  app = createApp(deps);
});
afterAll(() => deps.close());

const sql = <T,>(text: string, params: unknown[] = []) => deps.orm.em.getConnection().execute<T[]>(text, params);
const quote = (s: string) => (/[",\r\n]|^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
const COLUMNS = ['name', 'email', 'course_name', 'action'] as const;

async function seed(seeded: Seeded[]) {
  for (const s of seeded) {
    await sql(`insert into students (name, email) values (?, ?) on conflict do nothing`, [`Seed ${s.email}`, s.email]);
    await sql(`insert into courses (name) values (?) on conflict do nothing`, [s.course]);
    await sql(
      `insert into course_enrollments (student_id, course_id, active, source)
       select s.id, c.id, ?, ? from students s, courses c where s.email = ? and c.name = ?`,
      [s.active, s.source, s.email, s.course],
    );
  }
}

/** Runs the sync in this process; a held one is approved and run again. */
async function syncHere(csv: string, query: { scope: 'courses' | 'all'; source: string | null }, control: { batchRows: number; writers: number }) {
  const accepted = await acceptImport(deps, {
    source: (async function* () {
      yield Buffer.from(csv);
    })(),
    options: { mode: 'sync', dryRun: false, source: query.source, fileName: null, sync: { scope: query.scope, max_deactivate_percent: 10, max_deactivate: null, max_invalid_percent: 10 } },
    idempotencyKey: null,
  });
  const id = accepted.body.job_id;
  const run = () => runImport(deps.orm, id, { stopping: () => false, ...control });
  await run();
  let job = await waitForJob(app, id, (j) => j.status !== 'running' && j.status !== 'queued');
  if (job.status === 'awaiting_approval') {
    expect((await send(app, 'POST', `/jobs/${id}/approve`, {})).status).toBe(202);
    await run();
    job = await waitForJob(app, id);
  }
  return job;
}

describe('a roster sync = its rows one by one, then the sweep (CONTRACT §7)', () => {
  it('gives the reference tables, sources, counts, row errors and history on random rosters and files', async () => {
    await fc.assert(
      fc.asyncProperty(
        seededArb,
        fc.array(rowArb, { minLength: 1, maxLength: 20 }),
        fc.constantFrom('courses' as const, 'all' as const),
        fc.constantFrom(null, 'sis'),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 3 }),
        async (seeded, rows, scope, source, batchRows, writers) => {
          await truncateAll(deps);
          await seed(seeded);
          const csv = `${COLUMNS.join(',')}\n${rows.map((r) => COLUMNS.map((c) => quote(r[c])).join(',')).join('\n')}\n`;
          const job = await syncHere(csv, { scope, source }, { batchRows, writers });
          const expected = model(seeded, rows, { scope, source });
          if (expected.counts.valid === 0) {
            expect(job).toMatchObject({ status: 'failed', error: { code: 'empty_sync' } });
            return;
          }
          expect(job.counts).toEqual(expected.counts);
          expect((await jobErrors(app, job.id)).map((e) => ({ line: e.line, code: e.code }))).toEqual(expected.errors);
          const enrollments = await sql<{ key: string; active: boolean; source: string | null }>(
            `select lower(s.email) || '|' || lower(c.name) as key, e.active, e.source from course_enrollments e
               join students s on s.id = e.student_id join courses c on c.id = e.course_id order by 1`,
          );
          expect(enrollments).toEqual(expected.enrollments);
          expect(await sql(`select lower(email) as email, name from students order by 1`)).toEqual(expected.students);
          await expectCountsMatchChanges(app, job);
        },
      ),
      { numRuns: 120 },
    );
  }, 240_000);
});
