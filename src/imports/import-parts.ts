import { addCounts } from '../domain/counts.js';
import { inApplyTransaction } from '../db/apply-transaction.js';
import type { Orm } from '../db/orm.js';
import { rosterVersion } from '../db/roster-version.repository.js';
import { insertChanges } from '../history/change.repository.js';
import { applyPlannedPart } from './import-apply.repository.js';
import { foldStudents } from './import-fold.js';
import { createPlannedCourses, planRows, summarizePlan } from './import-plan.repository.js';
import { rowErrorsOf, syncOptionsOf } from './import-review.js';
import { planSweep, sweepChunk } from './import-sweep.repository.js';
import type { WorkTables } from './import-work.repository.js';
import { cancelRequested, commitPart, commitSweepChunk, saveImportState, tuneImportTransaction, type ImportJob, type ImportState } from './import.repository.js';

/** How a run of parts (or of the sweep) ended: all done, or stopped for a cancellation or a shutdown. */
export type RunOutcome = 'done' | 'cancelled' | 'handed_back';

type Control = { stopping(): boolean; writers: number };

/**
 * Applies the parts not applied yet, `writers` at a time, each in a transaction of its own. The
 * parts hold the apply lock shared (their students are disjoint); commands wait for it alone.
 */
export async function applyParts(orm: Orm, job: ImportJob, t: WorkTables, state: ImportState, control: Control): Promise<RunOutcome> {
  const todo = Array.from({ length: state.parts }, (_, p) => p).filter((p) => !state.done.includes(p));
  let next = 0;
  let stop: Exclude<RunOutcome, 'done'> | null = null;
  let failure: unknown = null;
  const writer = async () => {
    while (!stop && failure === null && next < todo.length) {
      const part = todo[next++]!;
      try {
        const outcome = await applyPart(orm, job, t, part, state.version!, control);
        if (outcome !== 'applied') stop ??= outcome;
      } catch (err) {
        failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, control.writers) }, writer));
  if (failure !== null) throw failure;
  return stop ?? 'done';
}

/** One part: planned again if a command changed the roster since the plan, applied with its history, checkpointed. */
async function applyPart(orm: Orm, job: ImportJob, t: WorkTables, part: number, version: number, control: Control): Promise<'applied' | Exclude<RunOutcome, 'done'>> {
  if (control.stopping()) return 'handed_back';
  return inApplyTransaction(
    orm,
    async (client) => {
      await tuneImportTransaction(client);
      if (await cancelRequested(client, job.id)) return 'cancelled';
      if ((await rosterVersion(client)) !== version) {
        await planRows(client, t, part);
        await createPlannedCourses(client, t, part);
      }
      const source = { seq: job.seq, source: job.payload.source ?? null };
      await applyPlannedPart(client, t, part, source);
      const fold = await foldStudents(client, t, part, source, { write: true });
      await insertChanges(client, job.seq, fold.changes);
      const summary = await summarizePlan(client, t, part);
      await commitPart(client, job.id, part, {
        counts: addCounts(summary.counts, fold.counts),
        rows: summary.counts.rows + fold.rows,
        errors: rowErrorsOf(summary.nameRequiredLines, fold.errors),
      });
      return 'applied';
    },
    'shared',
  );
}

/** Enrollments a sweep transaction deactivates at most: it commits in well under a second. */
const SWEEP_CHUNK = 10_000;

/**
 * A sync's sweep, after its rows: what is active in scope and not named by the file is looked up
 * now (so a sweep resumed after a crash finds what is left), then deactivated in chunks, each
 * counted and recorded in its own transaction.
 */
export async function sweep(orm: Orm, job: ImportJob, t: WorkTables, state: ImportState, control: Control): Promise<RunOutcome> {
  const source = job.payload.source ?? null;
  await inApplyTransaction(
    orm,
    async (client) => {
      await tuneImportTransaction(client);
      await planSweep(client, t, syncOptionsOf(job.payload), source);
      state.sweepFrom = 0;
      await saveImportState(client, job.id, state);
    },
    'shared',
  );
  for (let from = 0; ; ) {
    if (control.stopping()) return 'handed_back';
    const outcome = await inApplyTransaction(
      orm,
      async (client) => {
        await tuneImportTransaction(client);
        if (await cancelRequested(client, job.id)) return 'cancelled' as const;
        const { last, swept } = await sweepChunk(client, t, job.seq, from, SWEEP_CHUNK);
        if (last === null) return 'done' as const;
        await commitSweepChunk(client, job.id, swept, last);
        from = last;
        return 'more' as const;
      },
      'shared',
    );
    if (outcome !== 'more') return outcome;
  }
}
