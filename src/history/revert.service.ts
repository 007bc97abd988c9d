import { sideBySide } from '../async/side-by-side.js';
import { addCounts, zeroCounts } from '../domain/counts.js';
import { inApplyTransaction } from '../db/apply-transaction.js';
import type { Orm } from '../db/orm.js';
import { bumpRosterVersion } from '../db/roster-version.repository.js';
import { inTransaction } from '../db/transaction.js';
import { cancelRequested, finishImportJob, lockImportJob, saveImportState, startRevertJob, tuneImportTransaction, writeRowErrors } from '../imports/import.repository.js';
import type { ImportState } from '../imports/import.repository.js';
import type { JobRowError, RevertPayload } from '../jobs/job.model.js';
import type { ChangeRow } from './change.model.js';
import { insertChanges } from './change.repository.js';
import { chunkEnds, laterJobs, markConflicts, planRevertItems, restoreValues, revertChunk, revertGraph, revertTableOf, type RevertItem } from './revert.repository.js';

/**
 * Runs a revert job (CONTRACT §6): every value the reverted job changed goes back to what it was
 * before the job's first change of it (an enrollment it created becomes inactive; students are
 * never deleted). A value that a later job changed again is a conflict: left as it is and reported
 * (`changed_since`, naming that job), or restored anyway with `force`. Changes that cancel out, a
 * job and a revert of it that still stands, are not conflicts. The items are restored in chunks,
 * several side by side, each with its changes, its row errors and its checkpoint in one
 * transaction, so a revert killed at any moment resumes exactly. A dry run reports what it would
 * do and changes nothing.
 */

/** Items a revert transaction restores at most; `writers` such transactions run side by side. */
const CHUNK = 10_000;

const ORD = { name: 1, email: 2, active: 3 } as const;
const KIND = { name: 'student_renamed', email: 'student_email_changed' } as const;

type Control = { stopping(): boolean; writers?: number };

export async function runRevert(orm: Orm, jobId: string, control: Control): Promise<'finished' | 'handed_back'> {
  const job = await startRevertJob(orm, jobId);
  if (!job) return 'finished';
  const payload = job.payload as unknown as RevertPayload;
  const table = revertTableOf(job.seq);
  let state = job.state ?? (await plan(orm, job.id, job.seq, payload, table));
  if (!(await tableExists(orm, table))) state = await plan(orm, job.id, job.seq, payload, table, state);
  // Chunks of items, the same on every run (the items are); items up to `sweepFrom` were restored
  // one chunk after another by a revert from before chunks ran side by side.
  const ends = await inTransaction(orm, (client) => chunkEnds(client, table, state.sweepFrom ?? 0, CHUNK));
  const todo = ends.map((end, k) => ({ k, after: k === 0 ? (state.sweepFrom ?? 0) : ends[k - 1]!, end })).filter((c) => !state.done.includes(c.k));
  const stop = await sideBySide(todo, control.writers ?? 1, async (chunk) => {
    if (control.stopping()) return 'handed_back';
    const outcome = await restoreChunk(orm, job.id, job.seq, payload, table, chunk);
    return outcome === 'restored' ? null : outcome;
  });
  if (stop === 'handed_back') return 'handed_back';
  await inTransaction(orm, async (client) => {
    const current = await lockImportJob(client, job.id);
    if (!current || current.status !== 'running') return;
    const status = current.cancelRequested ? 'cancelled' : current.counts.invalid > 0 ? 'completed_with_errors' : 'completed';
    await finishImportJob(client, job.id, { status, exactTotal: status !== 'cancelled' });
    await client.query(`drop table if exists ${table}`);
  });
  return 'finished';
}

/**
 * Restores chunk `k` (the items after `after` up to `end`) with its changes and row errors, and
 * marks it done, in one transaction. Chunks touch disjoint values, so they run side by side; the
 * apply lock is shared between them (commands wait for it alone).
 */
async function restoreChunk(
  orm: Orm,
  id: string,
  seq: number,
  payload: RevertPayload,
  table: string,
  chunk: { k: number; after: number; end: number },
): Promise<'restored' | 'cancelled' | 'gone'> {
  return inApplyTransaction(
    orm,
    async (client) => {
      await tuneImportTransaction(client);
      if (await cancelRequested(client, id)) return 'cancelled';
      const items = await revertChunk(client, table, chunk.after, chunk.end);
      const { counts, changes, errors, values } = restore(items, payload.force);
      if (!payload.dry_run) {
        await restoreValues(client, values);
        await insertChanges(client, seq, changes);
      } else await insertChanges(client, seq, changes, 'planned_changes');
      // Last, as they lock one row each that every chunk writes: the job's and the roster version's.
      const current = await lockImportJob(client, id);
      if (!current || current.status !== 'running' || !current.state || current.state.done.includes(chunk.k)) return 'gone';
      await writeRowErrors(client, id, current.state.errors + 1, errors);
      const next: ImportState = { ...current.state, errors: current.state.errors + errors.length, done: [...current.state.done, chunk.k] };
      await saveImportState(client, id, next, { counts: addCounts(current.counts, counts), processed: current.processed + items.length });
      if (!payload.dry_run) await bumpRosterVersion(client);
      return 'restored';
    },
    'shared',
  );
}

/** The items of the reverted job, their conflicts marked; the revert's total is their number. */
async function plan(orm: Orm, id: string, seq: number, payload: RevertPayload, table: string, kept?: ImportState): Promise<ImportState> {
  return inTransaction(orm, async (client) => {
    await tuneImportTransaction(client);
    const total = await planRevertItems(client, table, payload.reverts_seq);
    const later = await laterJobs(client, table, payload.reverts_seq, seq);
    if (later.length) await markConflicts(client, table, payload.reverts_seq, seq, await cancelledOut(client, later));
    const state: ImportState = kept ?? { phase: 'planned', parts: 0, staged: 0, invalid: 0, stagedErrors: 0, errors: 0, done: [] };
    await saveImportState(client, id, state);
    await client.query(`update jobs set total = $2 where id = $1`, [id, total]);
    return state;
  });
}

/**
 * Of the jobs that changed values again, those whose changes do not count: a job reverted by a
 * revert that stands (it is "dead"), and a standing revert of a dead job (the two cancel out).
 * A revert stands unless it was reverted by one that stands, and so on down the chain.
 */
async function cancelledOut(client: Parameters<typeof revertGraph>[0], seqs: number[]): Promise<number[]> {
  const graph = new Map<number, { reverts: number | null; revertedBy: number[] }>();
  for (let todo = [...new Set(seqs)]; todo.length; ) {
    const found = await revertGraph(client, todo);
    for (const j of found) graph.set(j.seq, j);
    todo = [...new Set(found.flatMap((j) => [...j.revertedBy, ...(j.reverts === null ? [] : [j.reverts])]))].filter((s) => !graph.has(s));
  }
  const live = new Map<number, boolean>();
  const isLive = (seq: number, depth = 0): boolean => {
    if (depth > 100) return true;
    if (!live.has(seq)) live.set(seq, !(graph.get(seq)?.revertedBy ?? []).some((r) => isLive(r, depth + 1)));
    return live.get(seq)!;
  };
  return seqs.filter((s) => {
    const reverts = graph.get(s)?.reverts ?? null;
    return !isLive(s) || (reverts !== null && !isLive(reverts));
  });
}

/** What restoring a chunk of items does: their counts, their changes, the conflicts' row errors, and the values to write. */
function restore(items: RevertItem[], force: boolean) {
  const counts = zeroCounts();
  const changes: ChangeRow[] = [];
  const errors: JobRowError[] = [];
  const values = { names: [] as Array<[number, string]>, emails: [] as Array<[number, string]>, active: [] as Array<[number, number, boolean]> };
  const updated = new Set<string>();
  for (const i of items) {
    counts.rows++;
    if (i.conflict_id && !force) {
      counts.invalid++;
      errors.push({ line: i.line, column: i.attr, code: 'changed_since', message: `changed since by job ${i.conflict_id}: left as it is`, value: i.conflict_id });
      continue;
    }
    if (i.attr === 'email' && i.email_taken && i.current !== i.target) {
      counts.invalid++;
      errors.push({ line: i.line, column: 'email', code: 'email_taken', message: `email ${i.target} belongs to another student now: left as it is`, value: i.target });
      continue;
    }
    counts.valid++;
    if (i.current === i.target || i.current === null) {
      counts.unchanged++;
      continue;
    }
    if (i.attr === 'active') {
      const active = i.target === 'true';
      values.active.push([i.student_id, i.course_id!, active]);
      counts[active ? 'enrollments_activated' : 'enrollments_deactivated']++;
      changes.push({ kind: active ? 'enrollment_activated' : 'enrollment_deactivated', studentId: i.student_id, courseId: i.course_id, email: null, courseName: null, before: i.current, after: i.target, line: i.line, ord: ORD.active });
    } else {
      (i.attr === 'name' ? values.names : values.emails).push([i.student_id, i.target]);
      const student = `${i.student_id}:${i.line}`;
      if (!updated.has(student)) counts.students_updated++;
      updated.add(student);
      changes.push({ kind: KIND[i.attr], studentId: i.student_id, courseId: null, email: null, courseName: null, before: i.current, after: i.target, line: i.line, ord: ORD[i.attr] });
    }
  }
  return { counts, changes, errors, values };
}

async function tableExists(orm: Orm, table: string): Promise<boolean> {
  return inTransaction(orm, async (client) => (await client.query<{ ok: boolean }>(`select to_regclass($1) is not null as ok`, [table])).rows[0]!.ok);
}
