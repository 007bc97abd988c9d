import type pg from 'pg';
import { finishJobs, type JobEnd } from '../jobs/job-finish.repository.js';
import type { CommandPayload, JobRowError } from '../jobs/job.model.js';
import { insertJobErrors } from '../jobs/job.repository.js';

/** A queued command or batch job, claimed (row-locked) by the transaction that applies it. */
export type ClaimedJob = { id: string; seq: number; type: 'command' | 'batch'; payload: CommandPayload };

/** The oldest queued command jobs whose commands fit the budget (always at least one), locked, in acceptance order. */
export async function claimCommandJobs(client: pg.ClientBase, budget: number): Promise<ClaimedJob[]> {
  const { rows } = await client.query<{ id: string; n: number }>(
    `select id, jsonb_array_length(payload->'commands') as n from jobs
      where type in ('command', 'batch') and status = 'queued'
      order by seq limit 500 for update`,
  );
  const picked: string[] = [];
  let total = 0;
  for (const r of rows) {
    if (picked.length && total + r.n > budget) break;
    picked.push(r.id);
    total += r.n;
  }
  if (!picked.length) return [];
  const full = await client.query<ClaimedJob & { seq: string }>(`select id, seq, type, payload from jobs where id = any($1::uuid[]) order by seq`, [picked]);
  return full.rows.map((r) => ({ ...r, seq: Number(r.seq) }));
}

/** Finishes claimed jobs with their outcomes; a batch's failed commands become its row errors. */
export async function finishCommandJobs(client: pg.ClientBase, ends: ReadonlyArray<JobEnd & { rowErrors: JobRowError[] }>): Promise<void> {
  await finishJobs(client, ends);
  for (const end of ends) await insertJobErrors(client, end.id, 1, end.rowErrors);
}
