import { addCounts, zeroCounts, type Counts } from '../domain/counts.js';
import type { Orm } from '../db/orm.js';
import { inTransaction } from '../db/transaction.js';
import { insertChanges } from '../history/change.repository.js';
import type { ImportPayload, JobRowError, SyncOptions } from '../jobs/job.model.js';
import type { Hold } from '../jobs/job-view.js';
import { addHold, holdImport } from './import-hold.repository.js';
import { recordPlannedChanges } from './import-apply.repository.js';
import { foldStudents } from './import-fold.js';
import { summarizePlan } from './import-plan.repository.js';
import { excludeRowDeactivations, planSweep, recordSweepPreview } from './import-sweep.repository.js';
import { dropWorkTables, type WorkTables } from './import-work.repository.js';
import { finishImportJob, lockImportJob, tuneImportTransaction, writeRowErrors, type ImportJob, type ImportState } from './import.repository.js';

/** What a review decided: the import goes on and applies, or it ended here (a dry run, a sync held or empty). */
export type Verdict = 'apply' | 'ended';

/** A sync's thresholds and scope, from its payload (CONTRACT §7 defaults). */
export const syncOptionsOf = (p: ImportPayload): SyncOptions => ({
  scope: p.scope ?? 'courses',
  max_deactivate_percent: p.max_deactivate_percent ?? 10,
  max_deactivate: p.max_deactivate ?? null,
  max_invalid_percent: p.max_invalid_percent ?? 10,
});

/**
 * Looks at the whole plan before anything is applied, for a dry run and a roster sync: its counts
 * (the rows', the folded students' and a sync's sweep). A dry run then reports them with its row
 * errors and planned changes, and ends. A sync without a valid row fails (`empty_sync`); a sync
 * past a threshold is held for approval with the same report; any other sync goes on.
 */
export async function reviewPlan(orm: Orm, job: ImportJob, t: WorkTables, state: ImportState, onHold: (hold: Hold) => void): Promise<Verdict> {
  return inTransaction(orm, async (client) => {
    await tuneImportTransaction(client);
    const current = await lockImportJob(client, job.id);
    if (!current || current.status !== 'running') return 'ended';
    const source = job.payload.source ?? null;
    const summary = await summarizePlan(client, t, null);
    const fold = await foldStudents(client, t, null, { seq: job.seq, source }, { write: false });
    const invalid = state.invalidCounted ? zeroCounts() : { ...zeroCounts(), rows: state.invalid, invalid: state.invalid };
    let counts = addCounts(addCounts(addCounts(current.counts, invalid), summary.counts), fold.counts);
    const sync = job.payload.mode === 'sync' ? syncOptionsOf(job.payload) : null;
    let activeInScope = 0;
    if (sync) {
      // Before the sweep is planned: an empty sync sweeps nothing, and its counts say so.
      if (counts.valid === 0) {
        await finishImportJob(client, job.id, { status: 'failed', counts, error: { code: 'empty_sync', message: 'the sync file has no valid row: nothing was changed' }, exactTotal: false });
        await dropWorkTables(client, t);
        return 'ended';
      }
      activeInScope = (await planSweep(client, t, sync, source)).activeInScope;
      const swept = await excludeRowDeactivations(client, t, fold.deactivated);
      counts = { ...counts, enrollments_deactivated: counts.enrollments_deactivated + swept };
    }
    const hold = sync && !job.payload.dry_run ? holdFor(counts, activeInScope, sync, state.approved) : null;
    if (!job.payload.dry_run && !hold) return 'apply';

    // The report of a dry run or a hold: what the import would do now.
    await recordPlannedChanges(client, t, null, job.seq, 'planned_changes');
    await insertChanges(client, job.seq, fold.changes, 'planned_changes');
    if (sync) await recordSweepPreview(client, t, job.seq);
    await writeRowErrors(client, job.id, state.errors + 1, rowErrorsOf(summary.nameRequiredLines, fold.errors));
    const processed = current.processed + invalid.rows + summary.counts.rows + fold.rows;
    if (hold) {
      await holdImport(client, job.id, { hold, counts, processed });
      await addHold(client);
      onHold(hold);
      return 'ended';
    }
    const status = current.cancelRequested ? 'cancelled' : counts.invalid > 0 ? 'completed_with_errors' : 'completed';
    await finishImportJob(client, job.id, { status, counts, processed, exactTotal: true });
    await dropWorkTables(client, t);
    return 'ended';
  });
}

/**
 * Whether a sync must wait for approval (CONTRACT §7): its deactivations (rows and sweep) above
 * `max_deactivate_percent` of the enrollments active in scope or above `max_deactivate`, or its
 * invalid rows above `max_invalid_percent` of its rows; "above" is strictly above. An approved
 * sync holds again only if it would now deactivate more than the hold it was approved on showed.
 */
export function holdFor(counts: Counts, activeInScope: number, sync: SyncOptions, approved?: { deactivations: number }): Hold | null {
  const deactivations = counts.enrollments_deactivated;
  const deactivatedPercent = activeInScope > 0 ? (100 * deactivations) / activeInScope : deactivations > 0 ? 100 : 0;
  const invalidPercent = counts.rows > 0 ? (100 * counts.invalid) / counts.rows : 0;
  const figures = { deactivations, active_in_scope: activeInScope, rows: counts.rows, invalid: counts.invalid };
  const round = (n: number) => Math.round(n * 100) / 100;
  if (approved) {
    return deactivations > approved.deactivations
      ? { reason: 'max_deactivate', ...figures, percent: round(deactivatedPercent), threshold: approved.deactivations }
      : null;
  }
  // Compared without dividing, so that exactly the threshold never holds.
  if (100 * deactivations > sync.max_deactivate_percent * activeInScope) {
    return { reason: 'max_deactivate_percent', ...figures, percent: round(deactivatedPercent), threshold: sync.max_deactivate_percent };
  }
  if (sync.max_deactivate !== null && deactivations > sync.max_deactivate) {
    return { reason: 'max_deactivate', ...figures, percent: round(deactivatedPercent), threshold: sync.max_deactivate };
  }
  if (100 * counts.invalid > sync.max_invalid_percent * counts.rows) {
    return { reason: 'max_invalid_percent', ...figures, percent: round(invalidPercent), threshold: sync.max_invalid_percent };
  }
  return null;
}

const nameRequired = (line: number): JobRowError => ({ line, column: 'name', code: 'name_required', message: 'a new student needs a name', value: null });

/** A part's (or the whole plan's) row errors in line order: the plan's (a new student without a name) and the fold's. */
export function rowErrorsOf(nameRequiredLines: number[], foldErrors: JobRowError[]): JobRowError[] {
  return [...nameRequiredLines.map(nameRequired), ...foldErrors].sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
}
