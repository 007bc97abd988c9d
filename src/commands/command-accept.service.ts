import { createBatcher } from '../async/batcher.js';
import { withPgClient } from '../db/orm.js';
import type { Deps } from '../process/deps.js';
import { newAccepted, type Accepted } from '../jobs/accepted.js';
import { acceptOnce, type Idempotency } from '../jobs/idempotency.js';
import type { CommandPayload } from '../jobs/job.model.js';
import { insertJob, insertJobs, type NewJob } from '../jobs/job.repository.js';

/** A command or batch job to accept: its actions and how many rows it counts. */
export type CommandJob = { type: 'command' | 'batch'; payload: CommandPayload; total: number };

type AcceptDeps = Pick<Deps, 'orm' | 'metrics'>;

/**
 * Durably accepts a command job: the job row (and the idempotency key with its answer) commit
 * before the 202. That is all the API does: the commit wakes a relay in the workers, which hands
 * the job to BullMQ (relay.ts). Requests without a key are group-committed (see acceptorFor).
 * A key seen before answers the first answer again, or 422 when the request differs.
 */
export async function acceptCommandJob(deps: AcceptDeps, job: CommandJob, idempotency: Idempotency | null): Promise<Accepted> {
  let accepted: Accepted;
  if (!idempotency) {
    // The common case: group-committed with the other requests arriving at the same moment.
    accepted = newAccepted();
    await acceptorFor(deps)({ id: accepted.body.job_id, ...job });
  } else {
    let stored = false;
    accepted = await acceptOnce(deps.orm, idempotency.key, {
      sameRequest: async () => idempotency.fingerprint,
      store: async (client, answer) => {
        await insertJob(client, { id: answer.body.job_id, ...job });
        stored = true;
        return idempotency.fingerprint;
      },
    });
    if (!stored) return accepted; // a replay: no new job
  }
  deps.metrics.jobsAccepted.inc({ type: job.type });
  return accepted;
}

const acceptors = new WeakMap<AcceptDeps, (job: NewJob) => Promise<void>>();

/** One group-commit batcher per process wiring: the requests arriving together share one INSERT. */
function acceptorFor(deps: AcceptDeps) {
  let acceptor = acceptors.get(deps);
  if (!acceptor) {
    acceptor = createBatcher<NewJob>((jobs) => withPgClient(deps.orm, (client) => insertJobs(client, jobs)), {
      maxInFlight: 4,
      maxBatch: 500,
    });
    acceptors.set(deps, acceptor);
  }
  return acceptor;
}
