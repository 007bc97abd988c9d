import type pg from 'pg';
import type { Deps } from '../process/deps.js';
import { AppError } from '../http/errors.js';
import { newAccepted, type Accepted } from '../jobs/accepted.js';
import { acceptOnce, type Idempotency } from '../jobs/idempotency.js';
import { insertJob } from '../jobs/job.repository.js';
import { inTransaction } from '../db/transaction.js';
import type { RevertPayload } from '../jobs/job.model.js';

type Target = { id: string; seq: number; type: string; status: string; dry_run: boolean; sync: boolean; changed: boolean };

/**
 * Accepts `POST /jobs/{id}/revert` (CONTRACT §6): a new job of type `revert` for the job `targetId`,
 * which must be finished, not a dry run, not a sync that applied nothing, and not reverted already
 * (unless that revert was itself reverted). The checks and the new job commit together, the target
 * locked, so two reverts of one job never both pass.
 */
export async function acceptRevert(
  deps: Pick<Deps, 'orm' | 'metrics'>,
  targetId: string,
  opts: { dryRun: boolean; force: boolean },
  idempotency: Idempotency | null,
): Promise<Accepted> {
  const store = async (client: pg.ClientBase, accepted: Accepted) => {
    const target = await lockTarget(client, targetId);
    await checkRevertible(client, target);
    const payload: RevertPayload = { reverts: target.id, reverts_seq: target.seq, dry_run: opts.dryRun, force: opts.force };
    await insertJob(client, { id: accepted.body.job_id, type: 'revert', payload, total: null });
    await client.query(`update jobs set reverts = $2 where id = $1`, [accepted.body.job_id, target.id]);
  };
  let accepted: Accepted;
  if (idempotency) {
    accepted = await acceptOnce(deps.orm, idempotency.key, {
      sameRequest: async () => idempotency.fingerprint,
      store: async (client, answer) => {
        await store(client, answer);
        return idempotency.fingerprint;
      },
    });
  } else {
    accepted = newAccepted();
    await inTransaction(deps.orm, (client) => store(client, accepted));
  }
  deps.metrics.jobsAccepted.inc({ type: 'revert' });
  return accepted;
}

async function lockTarget(client: pg.ClientBase, id: string): Promise<Target> {
  const { rows } = await client.query<Target & { seq: string }>(
    `select id, seq, type, status,
            type in ('import', 'revert') and payload->>'dry_run' = 'true' as dry_run,
            type = 'import' and payload->>'mode' = 'sync' as sync,
            exists (select 1 from changes where job_seq = jobs.seq)
              or exists (select 1 from course_enrollments where created_by = jobs.seq) as changed
       from jobs where id = $1 for no key update`,
    [id],
  );
  if (!rows[0]) throw new AppError('not_found', `no job ${id}`);
  return { ...rows[0], seq: Number(rows[0].seq) };
}

async function checkRevertible(client: pg.ClientBase, target: Target): Promise<void> {
  if (['queued', 'running', 'awaiting_approval'].includes(target.status)) {
    throw new AppError('conflict', `job ${target.id} is ${target.status}: only a finished job can be reverted`);
  }
  if (target.dry_run) throw new AppError('conflict', `job ${target.id} is a dry run: it changed nothing`);
  if (target.sync && (target.status === 'rejected' || !target.changed)) throw new AppError('conflict', `job ${target.id} is a sync that applied nothing`);
  const standing = await standingRevert(client, target.id);
  if (standing) throw new AppError('conflict', `job ${target.id} is already reverted by job ${standing}`, { reverted_by: standing });
}

/** A revert of the job that stands (queued, running, or done, and not itself reverted by one that stands), or null. */
async function standingRevert(client: pg.ClientBase, jobId: string, depth = 0): Promise<string | null> {
  if (depth > 100) return null;
  const { rows } = await client.query<{ id: string }>(
    `select id from jobs where reverts = $1 and payload->>'dry_run' <> 'true'
        and (status in ('queued', 'running', 'completed', 'completed_with_errors') or processed > 0)
      order by seq desc`,
    [jobId],
  );
  for (const r of rows) if (!(await standingRevert(client, r.id, depth + 1))) return r.id;
  return null;
}
