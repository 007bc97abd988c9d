import type { Logger } from 'pino';
import { sideBySide } from '../async/side-by-side.js';
import { addCounts } from '../domain/counts.js';
import { inApplyTransaction } from '../db/apply-transaction.js';
import type { Orm } from '../db/orm.js';
import { inTransaction } from '../db/transaction.js';
import { rosterVersion } from '../db/roster-version.repository.js';
import { insertChanges } from '../history/change.repository.js';
import { applyPlannedParts } from './import-apply.repository.js';
import { foldStudents } from './import-fold.js';
import { createPlannedCourses, partWork, planRows, summarizePlan } from './import-plan.repository.js';
import { rowErrorsOf, syncOptionsOf } from './import-review.js';
import { planSweep, sweepChunk } from './import-sweep.repository.js';
import { indexStage, type WorkTables } from './import-work.repository.js';
import { cancelRequested, commitParts, commitSweepChunk, saveImportState, tuneImportTransaction, type ImportJob, type ImportState } from './import.repository.js';

/** How a run of parts (or of the sweep) ended: all done, or stopped for a cancellation or a shutdown. */
export type RunOutcome = 'done' | 'cancelled' | 'handed_back';

type Control = { stopping(): boolean; writers: number; log?: Pick<Logger, 'info'> };

/** Rows written at most by one transaction of parts, and rows looked at (a part without writes is only counted). */
const UNIT_WORK = 5_000;
const UNIT_ROWS = 200_000;

/**
 * The parts not applied yet, grouped into units that each write about UNIT_WORK rows: a part
 * whose rows change nothing (most of a nightly sync or a re-run) costs a share of one transaction,
 * not one of its own.
 */
export function unitsOf(parts: Array<{ part: number; rows: number; work: number }>, done: readonly number[]): number[][] {
  const units: number[][] = [];
  let unit: number[] = [];
  let work = 0;
  let rows = 0;
  for (const p of parts) {
    if (done.includes(p.part)) continue;
    if (unit.length && (work + p.work > UNIT_WORK || rows + p.rows > UNIT_ROWS)) {
      units.push(unit);
      [unit, work, rows] = [[], 0, 0];
    }
    unit.push(p.part);
    work += p.work;
    rows += p.rows;
  }
  if (unit.length) units.push(unit);
  return units;
}

/**
 * Applies the parts not applied yet, unit by unit, `writers` units at a time, each in a transaction
 * of its own. The units hold the apply lock shared (their students are disjoint); commands wait
 * for it alone.
 */
export async function applyParts(orm: Orm, job: ImportJob, t: WorkTables, state: ImportState, control: Control): Promise<RunOutcome> {
  const work = await inTransaction(orm, (client) => partWork(client, t));
  // Parts without a staged valid row (no student of the file there) are applied too: they are counted done.
  const planned = new Set(work.map((w) => w.part));
  for (let p = 0; p < state.parts; p++) if (!planned.has(p)) work.push({ part: p, rows: 0, work: 0 });
  work.sort((a, b) => a.part - b.part);
  const units = unitsOf(work, state.done);
  const rowsOf = new Map(work.map((w) => [w.part, w.rows]));
  let replanned = 0;
  const stop = await sideBySide(units, control.writers, async (unit) => {
    const staged = unit.reduce((sum, part) => sum + (rowsOf.get(part) ?? 0), 0);
    const outcome = await applyUnit(orm, job, t, { parts: unit, staged }, state.version!, control, () => replanned++);
    return outcome === 'applied' ? null : outcome;
  });
  // Why an import ran slower than its plan promised: commands wrote while it applied.
  if (replanned > 0) control.log?.info({ jobId: job.id, units: units.length, replanned }, 'import parts planned again: the roster changed since the plan');
  return stop ?? 'done';
}

/**
 * One unit of parts (and its valid staged rows): planned again if a command changed the roster
 * since the plan, applied with its history, checkpointed.
 */
async function applyUnit(
  orm: Orm,
  job: ImportJob,
  t: WorkTables,
  { parts, staged }: { parts: number[]; staged: number },
  version: number,
  control: Control,
  onPlannedAgain: () => void,
): Promise<'applied' | Exclude<RunOutcome, 'done'>> {
  if (control.stopping()) return 'handed_back';
  return inApplyTransaction(
    orm,
    async (client) => {
      await tuneImportTransaction(client);
      if (await cancelRequested(client, job.id)) return 'cancelled';
      if ((await rosterVersion(client)) !== version) {
        onPlannedAgain();
        await indexStage(client, t);
        for (const part of parts) await planRows(client, t, { part }, job.payload.source ?? null);
        await createPlannedCourses(client, t, parts);
      }
      const source = { seq: job.seq, source: job.payload.source ?? null };
      await applyPlannedParts(client, t, parts, source);
      const fold = await foldStudents(client, t, parts, source, { write: true });
      await insertChanges(client, job.seq, fold.changes);
      const summary = await summarizePlan(client, t, parts, staged);
      await commitParts(client, job.id, parts, {
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
 * A sync's sweep, after its rows: what is active in scope and not named by the file, as this run's
 * review found it (`reviewed`) when no command or revert has written since the plan (the rows
 * write nothing the sweep would take), else looked up now (so a sweep resumed after a crash finds
 * what is left); then deactivated in chunks, each counted and recorded in its own transaction.
 */
export async function sweep(orm: Orm, job: ImportJob, t: WorkTables, state: ImportState, control: Control & { reviewed: boolean }): Promise<RunOutcome> {
  const source = job.payload.source ?? null;
  await inApplyTransaction(
    orm,
    async (client) => {
      await tuneImportTransaction(client);
      if (!control.reviewed || (await rosterVersion(client)) !== state.version) await planSweep(client, t, syncOptionsOf(job.payload), source);
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
