import { query } from '../../src/db/orm.js';
import { startRelay } from '../../src/jobs/relay.js';
import type { Deps } from '../../src/process/deps.js';
import { createCommandWorker } from '../../workers/commands.worker.js';
import { createImportWorker } from '../../workers/imports.worker.js';
import { truncateAll } from './deps.js';
import { createTestService, type TestService } from './service.js';

/**
 * The API and both queue workers (commands, and imports with reverts) with their relay, on a queue
 * prefix of their own, over empty tables; no reconciler (a test runs its pass itself). Small parts
 * (`batchRows`, 40 by default) and two writers: even a small file is applied in several parts.
 */
export async function createHistoryService(opts: { batchRows?: number } = {}): Promise<TestService> {
  const service = await createTestService();
  // Before the workers start: a job another file left queued went to that file's queue.
  await truncateAll(service.api);
  const running = [createImportWorker(service.workerDeps, { batchRows: opts.batchRows ?? 40, writers: 2 }), createCommandWorker(service.workerDeps), startRelay(service.workerDeps)];
  return {
    ...service,
    close: async () => {
      await Promise.all(running.map((w) => w.close()));
      await service.close();
    },
  };
}

/** One enrollment to seed: its student (by email; name `Seed <email>` unless given), course, flag and source. */
export type SeedEnrollment = { email: string; course: string; active?: boolean; source?: string | null; name?: string };

/**
 * Seeds students, courses and enrollments with plain SQL (set-based, so tens of thousands are
 * quick), as a roster from before the history: no job created them. Students and courses are
 * made in the order they first appear.
 */
export async function seedRoster(deps: Pick<Deps, 'orm'>, rows: SeedEnrollment[]): Promise<void> {
  // A student's name is the first one its rows give.
  const byEmail = new Map<string, { email: string; name?: string }>();
  for (const r of rows) {
    const known = byEmail.get(r.email.toLowerCase());
    if (!known) byEmail.set(r.email.toLowerCase(), { email: r.email, name: r.name });
    else known.name ??= r.name;
  }
  const students = [...byEmail.values()];
  const courses = [...new Set(rows.map((r) => r.course))];
  await query(
    deps.orm,
    `insert into students (name, email) select n, e from unnest($1::text[], $2::text[]) with ordinality as v(n, e, o)
      where not exists (select 1 from students s where lower(s.email) = lower(v.e)) order by o`,
    [students.map((s) => s.name ?? `Seed ${s.email}`), students.map((s) => s.email)],
  );
  await query(
    deps.orm,
    `insert into courses (name) select n from unnest($1::text[]) with ordinality as v(n, o)
      where not exists (select 1 from courses c where lower(c.name) = lower(v.n)) order by o`,
    [courses],
  );
  await query(
    deps.orm,
    `insert into course_enrollments (student_id, course_id, active, source)
     select s.id, c.id, v.a, v.src from unnest($1::text[], $2::text[], $3::boolean[], $4::text[]) with ordinality as v(e, c, a, src, o)
       join students s on lower(s.email) = lower(v.e) join courses c on lower(c.name) = lower(v.c) order by o`,
    [rows.map((r) => r.email), rows.map((r) => r.course), rows.map((r) => r.active ?? true), rows.map((r) => r.source ?? null)],
  );
}

/** The enrollments by `email|course` (both lower case) with their flag and source, sorted. */
export async function enrollmentsByKey(deps: Pick<Deps, 'orm'>) {
  return query<{ key: string; active: boolean; source: string | null }>(
    deps.orm,
    `select lower(s.email) || '|' || lower(c.name) as key, e.active, e.source from course_enrollments e
       join students s on s.id = e.student_id join courses c on c.id = e.course_id order by 1`,
  );
}
