import type pg from 'pg';
import type { Counts } from '../domain/counts.js';
import { zeroCounts } from '../domain/counts.js';
import type { Hold } from '../jobs/job-view.js';
import type { ImportState } from './import.repository.js';

/**
 * A roster sync held for approval (CONTRACT §7): `awaiting_approval` with its figures, until an
 * operator approves it (it is queued again, to run as if accepted then) or rejects it.
 */

/** Holds a running sync: nothing of it was applied; its counts and planned changes say what it would do. */
export async function holdImport(client: pg.ClientBase, id: string, report: { hold: Hold; counts: Counts; processed: number }): Promise<void> {
  await client.query(
    `update jobs set status = 'awaiting_approval', hold = $2, counts = $3, processed = $4, total = greatest(total, $4), updated_at = now() where id = $1`,
    [id, JSON.stringify(report.hold), JSON.stringify(report.counts), report.processed],
  );
}

/** Counts a hold in the running totals of the metrics. */
export async function addHold(client: pg.ClientBase): Promise<void> {
  await client.query(`insert into import_totals (holds) values (1) on conflict (one_row) do update set holds = import_totals.holds + 1`);
}

/** A job as an approval or a rejection finds it (locked). */
export type HeldJob = { id: string; seq: number; type: string; status: string; state: ImportState | null; hold: Hold | null };

export async function lockHeldJob(client: pg.ClientBase, id: string): Promise<HeldJob | null> {
  const { rows } = await client.query<HeldJob & { seq: string }>(`select id, seq, type, status, state, hold from jobs where id = $1 for no key update`, [id]);
  return rows[0] ? { ...rows[0], seq: Number(rows[0].seq) } : null;
}

/**
 * Approves a held sync: queued again behind the jobs accepted so far (a new `run_seq`), to be
 * planned again against the roster as it is then and applied with its thresholds lifted, unless it
 * would now deactivate more than the hold showed. Its report (row errors past the file's own,
 * counts, planned changes) is taken back: the next plan makes a new one.
 */
export async function approveHeldJob(client: pg.ClientBase, job: HeldJob): Promise<void> {
  const state = job.state!;
  const next: ImportState = { ...state, phase: 'staged', errors: state.stagedErrors, invalidCounted: false, approved: { deactivations: job.hold!.deactivations } };
  await client.query(`delete from job_errors where job_id = $1 and seq > $2`, [job.id, state.stagedErrors]);
  await client.query(`delete from planned_changes where job_seq = $1`, [job.seq]);
  await client.query(
    `update jobs set status = 'queued', state = $2, counts = $3, processed = $4, run_seq = nextval('jobs_run_seq'),
            enqueued_at = null, cancel_requested = false, updated_at = now()
      where id = $1`,
    [job.id, JSON.stringify(next), JSON.stringify(zeroCounts()), 0],
  );
}
