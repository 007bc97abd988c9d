import type pg from 'pg';
import type { Deps } from '../process/deps.js';
import { AppError } from '../http/errors.js';
import { statusUrl, type Accepted } from '../jobs/accepted.js';
import { acceptOnce, type Idempotency } from '../jobs/idempotency.js';
import { finishJobs } from '../jobs/job-finish.repository.js';
import { NEW_JOBS_CHANNEL } from '../jobs/job.repository.js';
import { inTransaction } from '../db/transaction.js';
import { approveHeldJob, lockHeldJob } from './import-hold.repository.js';
import { dropWorkTables, workTablesOf } from './import-work.repository.js';

const notHeld = (id: string, status: string) => new AppError('conflict', `job ${id} is ${status}, not awaiting approval`);

/**
 * `POST /jobs/{id}/approve` (CONTRACT §7): the held sync is queued again, to be applied to the
 * roster as it is then, its thresholds lifted (it holds again only if it would now deactivate more
 * than the hold showed). An admin write like any other: an Idempotency-Key answers the same again.
 */
export async function approveSync(deps: Pick<Deps, 'orm'>, id: string, idempotency: Idempotency | null): Promise<Accepted> {
  const accepted: Accepted = { status: 202, body: { job_id: id, status_url: statusUrl(id) } };
  const store = async (client: pg.ClientBase) => {
    const job = await lockHeldJob(client, id);
    if (!job) throw new AppError('not_found', `no job ${id}`);
    if (job.status !== 'awaiting_approval') throw notHeld(id, job.status);
    // Queued again and not handed over: the relay's next pass wakes a worker for it (relay.ts).
    await approveHeldJob(client, job);
    await client.query(`select pg_notify('${NEW_JOBS_CHANNEL}', '')`);
  };
  if (!idempotency) {
    await inTransaction(deps.orm, store);
    return accepted;
  }
  return acceptOnce(deps.orm, idempotency.key, {
    accepted,
    sameRequest: async () => idempotency.fingerprint,
    store: async (client) => {
      await store(client);
      return idempotency.fingerprint;
    },
  });
}

/** `POST /jobs/{id}/reject`: the held sync ends `rejected`, nothing applied. */
export async function rejectSync(deps: Pick<Deps, 'orm'>, id: string): Promise<void> {
  await inTransaction(deps.orm, async (client) => {
    const job = await lockHeldJob(client, id);
    if (!job) throw new AppError('not_found', `no job ${id}`);
    if (job.status !== 'awaiting_approval') throw notHeld(id, job.status);
    await finishJobs(client, [{ id, status: 'rejected', exactTotal: false }]);
    await dropWorkTables(client, workTablesOf(job.seq));
  });
}
