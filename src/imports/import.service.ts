import type { Logger } from 'pino';
import { sideBySide } from '../async/side-by-side.js';
import { withPgClient, type Orm } from '../db/orm.js';
import { rosterVersion } from '../db/roster-version.repository.js';
import { inApplyTransaction } from '../db/apply-transaction.js';
import { inTransaction } from '../db/transaction.js';
import { BULK_LOAD_STUDENTS, dropSearchIndexForBulkLoad, ensureSearchIndex } from '../students/search-index.repository.js';
import type { FinishedStatus } from '../jobs/job.model.js';
import type { Hold } from '../jobs/job-view.js';
import { ImportFileError } from './csv-reader.js';
import { applyParts, sweep } from './import-parts.js';
import { finishPlan, createPlan, createPlannedCourses, planRows, planSlices, plannedStudentCreations } from './import-plan.repository.js';
import { reviewPlan } from './import-review.js';
import { ensureStaged, scanFile } from './import-stage.js';
import { dropStaleWorkTables, dropWorkTables, workTablesOf, type WorkTables } from './import-work.repository.js';
import {
  analyzeRoster,
  finishImportJob,
  lockImportJob,
  LostPartError,
  saveImportState,
  startImportJob,
  tuneImportTransaction,
  type ImportJob,
  type ImportState,
} from './import.repository.js';

/**
 * Runs one CSV import to its end, or to the next part boundary when asked to stop (CONTRACT §2, §3, §7).
 * 1. First attempt only: the whole file is checked without touching the roster (header, CSV
 *    syntax, row count), so a file that is not a roster fails before anything is applied.
 * 2. Stage: the file is parsed and validated once, its rows COPYed into a table of the job's own,
 *    its invalid rows reported (import-stage.ts).
 * 3. Plan: PostgreSQL compares the whole staged file with the roster as joins of sets, in
 *    `writers` slices of its parts side by side (import-plan.repository.ts). A dry run reports
 *    the plan and ends; a roster sync checks its thresholds on it and is held for approval past
 *    one, having applied nothing (import-review.ts).
 * 4. Apply: the courses the rows create, in file order; then the parts, each a transaction that
 *    writes its students' rows and their history and checkpoints the part, several side by side
 *    (`writers`); students are independent in an import, so the parts' order does not matter
 *    (import-parts.ts). A sync then sweeps what the file does not name. A bulk load of new
 *    students builds the search index after its parts instead of keeping it up row by row
 *    (search-index.repository.ts).
 * Cancellation and shutdown are checked at every part; a resumed import skips the parts applied.
 */

export type ImportControl = {
  /** True once the worker is shutting down: hand the import back at the next part boundary. */
  stopping(): boolean;
  /** Rows per part (default PART_ROWS). */
  batchRows?: number;
  /** Parts applied side by side (default WRITERS). */
  writers?: number;
  /** Told when a sync is held for approval (the worker logs it). */
  onHold?(hold: Hold, jobId: string): void;
  /** Students an import must create for the search index to be built again after it rather than kept up (default BULK_LOAD_STUDENTS). */
  bulkLoadStudents?: number;
  /** Where each step's duration is logged (`import step done`, at info). */
  log?: Pick<Logger, 'info' | 'warn'>;
};

/** `finished`: the job is in a final state, or held, maybe by another hand; `handed_back`: stopped for shutdown. */
export type ImportOutcome = 'finished' | 'handed_back';

/** Rows per part: a part commits in well under a second, so progress and cancellation move often. */
export const PART_ROWS = 5_000;
/** Parts applied side by side by default. */
export const WRITERS = 2;

export async function runImport(orm: Orm, jobId: string, control: ImportControl): Promise<ImportOutcome> {
  const job = await startImportJob(orm, jobId);
  if (!job) return 'finished';
  await inTransaction(orm, dropStaleWorkTables);
  const t = workTablesOf(job.seq);
  const writers = control.writers ?? WRITERS;
  const step = async <T>(name: string, run: () => Promise<T>): Promise<T> => {
    const started = Date.now();
    const result = await run();
    control.log?.info({ step: name, ms: Date.now() - started }, 'import step done');
    return result;
  };
  try {
    if (!job.scanned) await step('scan', () => scanFile(orm, job));
    const staged = await step('stage', () => ensureStaged(orm, job, t, { stopping: control.stopping, rowsPerPart: control.batchRows ?? PART_ROWS }));
    if (staged === 'handed_back') return staged;
    const state = await step('plan', () => ensurePlanned(orm, job, t, staged, writers));
    const reviewed = !state.coursesCreated && (job.payload.dry_run || job.payload.mode === 'sync');
    if (reviewed) {
      const verdict = await step('review', () => reviewPlan(orm, job, t, state, (hold) => control.onHold?.(hold, job.id)));
      if (verdict === 'ended') return 'finished';
    }
    if (!state.coursesCreated) await step('courses', () => createCourses(orm, job, t, state));
    await dropSearchIndexIfBulkLoad(orm, t, state, control);
    let outcome = await step('parts', () => applyParts(orm, job, t, state, { stopping: control.stopping, writers, log: control.log }));
    if (outcome === 'done' && job.payload.mode === 'sync') outcome = await step('sweep', () => sweep(orm, job, t, state, { stopping: control.stopping, writers, reviewed }));
    if (outcome === 'handed_back') return 'handed_back';
    await restoreSearchIndex(orm, control);
    await step('finish', () => finish(orm, job, t, outcome === 'cancelled' ? 'cancelled' : null));
    return 'finished';
  } catch (err) {
    if (err instanceof LostPartError) return 'finished';
    if (!(err instanceof ImportFileError)) throw err;
    await restoreSearchIndex(orm, control);
    await inTransaction(orm, async (client) => {
      await finishImportJob(client, job.id, { status: 'failed', error: { code: err.code, message: err.message }, exactTotal: false });
      await dropWorkTables(client, t);
    });
    return 'finished';
  }
}

/**
 * The plan of the whole file, made now (again, when the work tables were lost or a held sync was
 * approved): `writers` slices of its parts side by side, each a transaction of its own.
 */
async function ensurePlanned(orm: Orm, job: ImportJob, t: WorkTables, staged: ImportState, writers: number): Promise<ImportState> {
  if (staged.phase === 'planned') return staged;
  // Read first: every slice's plan then sees at least this version, so a command after it is never missed.
  const version = await inTransaction(orm, async (client) => {
    await createPlan(client, t);
    return rosterVersion(client);
  });
  await sideBySide(planSlices(staged.parts, writers), writers, (slice) =>
    inTransaction(orm, async (client) => {
      await tuneImportTransaction(client);
      await planRows(client, t, slice, job.payload.source ?? null);
      return null;
    }),
  );
  return inTransaction(orm, async (client) => {
    await finishPlan(client, t);
    const state: ImportState = { ...staged, phase: 'planned', version, coursesCreated: false };
    await saveImportState(client, job.id, state);
    return state;
  });
}

/** Drops the search index when this import's new students are a bulk load (search-index.repository.ts). */
async function dropSearchIndexIfBulkLoad(orm: Orm, t: WorkTables, state: ImportState, control: ImportControl): Promise<void> {
  const atLeast = control.bulkLoadStudents ?? BULK_LOAD_STUDENTS;
  if (state.staged < atLeast) return; // it cannot create as many
  const started = Date.now();
  const dropped = await inTransaction(orm, async (client) => dropSearchIndexForBulkLoad(client, await plannedStudentCreations(client, t), atLeast));
  if (dropped) control.log?.info({ step: 'search index dropped', ms: Date.now() - started }, 'import step done');
}

/**
 * Builds the search index again if it is missing (dropped for this load, or for one cut short)
 * before the import completes: a completed import's students are found through it at once. What
 * the import applied stands either way: if the build cannot be done now (writers of students hold
 * the table, or it fails), the import completes, searches go on without the index, and the
 * reconciler builds it on a later pass.
 */
async function restoreSearchIndex(orm: Orm, control: ImportControl): Promise<void> {
  const started = Date.now();
  try {
    const outcome = await withPgClient(orm, ensureSearchIndex);
    if (outcome === 'built') control.log?.info({ step: 'search index built', ms: Date.now() - started }, 'import step done');
    if (outcome === 'busy') control.log?.warn({ ms: Date.now() - started }, 'search index not built: writers of students held the table; the reconciler will build it');
  } catch (err) {
    control.log?.warn({ err }, 'search index not built; the reconciler will try again');
  }
}

/** Creates the courses the rows create, named and numbered in file order, before any part applies. */
async function createCourses(orm: Orm, job: ImportJob, t: WorkTables, state: ImportState): Promise<void> {
  await inApplyTransaction(orm, async (client) => {
    await tuneImportTransaction(client);
    await createPlannedCourses(client, t, null);
    state.coursesCreated = true;
    await saveImportState(client, job.id, state);
  });
}

/**
 * The import's final status (`cancelled`, or by its invalid rows), its work tables dropped, and, when
 * it grew the roster by much, fresh statistics for the planner of the next import.
 */
async function finish(orm: Orm, job: ImportJob, t: WorkTables, cancelled: 'cancelled' | null): Promise<void> {
  const grew = await inTransaction(orm, async (client) => {
    const current = await lockImportJob(client, job.id);
    if (!current || current.status !== 'running') return false;
    const status: FinishedStatus = cancelled ?? (current.counts.invalid > 0 ? 'completed_with_errors' : 'completed');
    await finishImportJob(client, job.id, { status, exactTotal: status !== 'cancelled' });
    await dropWorkTables(client, t);
    return current.counts.students_created + current.counts.enrollments_created >= 50_000;
  });
  if (grew) await analyzeRoster(orm);
}
