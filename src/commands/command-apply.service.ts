import type pg from 'pg';
import { countApplied, countInvalid, zeroCounts, type Counts } from '../domain/counts.js';
import { applyCommand, type Applied, type Roster } from '../domain/enrollment.js';
import { inApplyTransaction, isTransientDbError } from '../db/apply-transaction.js';
import type { Orm } from '../db/orm.js';
import { bumpRosterVersion } from '../db/roster-version.repository.js';
import { loadRoster, writeRoster } from './roster.repository.js';
import type { Logger } from '../process/logger.js';
import { finishJobs } from '../jobs/job-finish.repository.js';
import type { FinishedStatus, JobError, JobResult, JobRowError } from '../jobs/job.model.js';
import { changeRowsOf } from '../history/change-rows.js';
import { insertChanges } from '../history/change.repository.js';
import { claimCommandJobs, finishCommandJobs, type ClaimedJob } from './command-job.repository.js';

/** At most this many commands share one transaction (a batch job of 10,000 goes alone). */
const COMMANDS_PER_TRANSACTION = 2_000;

/**
 * Applies every queued command and batch job, oldest first, many per transaction. Each
 * transaction holds the apply lock, applies its jobs' commands in acceptance order to one roster,
 * writes the changes, and marks those jobs finished with their own counts: the effect and the
 * status commit together, so a job delivered twice is applied once.
 * Returns how many jobs it finished.
 */
export async function drainCommandJobs(orm: Orm, logger: Logger, stopping: () => boolean = () => false): Promise<number> {
  let finished = 0;
  while (!stopping()) {
    let n: number;
    try {
      n = await inApplyTransaction(orm, (client) => applyNextJobs(client, COMMANDS_PER_TRANSACTION));
    } catch (err) {
      if (isTransientDbError(err)) throw err;
      // A job the database refuses (a bug, or data our validation missed) must not block the rest:
      // apply each job of the failed claim in a transaction of its own, so only the culprit fails.
      logger.error({ err }, 'command transaction failed; applying its jobs one by one');
      n = await isolateJobs(orm, logger, COMMANDS_PER_TRANSACTION);
    }
    if (n === 0) return finished;
    finished += n;
  }
  return finished;
}

/** Claims, applies and finishes the next jobs (within `budget` commands). Returns how many. */
async function applyNextJobs(client: pg.ClientBase, budget: number): Promise<number> {
  const jobs = await claimCommandJobs(client, budget);
  if (jobs.length) await applyClaimed(client, jobs);
  return jobs.length;
}

/** Applies the claimed jobs in order to one roster, writes it, records each job's changes and finishes the jobs. */
async function applyClaimed(client: pg.ClientBase, jobs: ClaimedJob[]): Promise<void> {
  const roster = await loadRoster(client, jobs.flatMap((j) => j.payload.commands));
  const outcomes = jobs.map((job) => applyJob(roster, job));
  await writeRoster(client, roster);
  await bumpRosterVersion(client);
  for (const [i, job] of jobs.entries()) {
    const rows = outcomes[i]!.applied.flatMap((a, position) => (a ? changeRowsOf(a.changes, position + 1, { creations: false }) : []));
    await insertChanges(client, job.seq, rows);
  }
  await finishJobsOf(client, jobs, outcomes);
}

type JobOutcome = { counts: Counts; errors: JobRowError[]; applied: Array<Applied | null> };

function applyJob(roster: Roster, job: ClaimedJob): JobOutcome {
  const counts = zeroCounts();
  const errors: JobRowError[] = [];
  const applied = job.payload.commands.map((cmd, i) => {
    const outcome = applyCommand(roster, cmd, { job: job.seq, line: i + 1 });
    if (outcome.ok) {
      countApplied(counts, outcome);
      return outcome;
    }
    countInvalid(counts);
    errors.push({ line: i + 1, ...outcome.error, value: null });
    return null;
  });
  return { counts, errors, applied };
}

/** Writes each job's final status, counts, result and row errors (ids are known after writeRoster). */
async function finishJobsOf(client: pg.ClientBase, jobs: ClaimedJob[], outcomes: JobOutcome[]): Promise<void> {
  await finishCommandJobs(
    client,
    jobs.map((job, i) => {
      const outcome = outcomes[i]!;
      // A single command's failure is the job's error; a batch lists its failed commands.
      return { id: job.id, ...finalState(job, outcome), processed: outcome.counts.rows, exactTotal: true, rowErrors: job.type === 'batch' ? outcome.errors : [] };
    }),
  );
}

function finalState(job: ClaimedJob, outcome: JobOutcome) {
  const { counts, errors, applied } = outcome;
  let status: FinishedStatus = errors.length ? 'completed_with_errors' : 'completed';
  let error: JobError | null = null;
  let result: JobResult | null = null;
  if (job.type === 'command') {
    const first = errors[0];
    if (first) {
      status = 'failed';
      error = { code: first.code, message: first.message };
    } else {
      const a = applied[0]!;
      result = { student_id: a.student?.id ?? null, course_id: a.course?.id ?? null, enrollment_id: a.enrollment?.id ?? null };
    }
  }
  return { status, counts, error, result };
}

/** Applies the oldest queued jobs (up to `budget` commands) one per transaction; a job that still fails is failed for good. */
async function isolateJobs(orm: Orm, logger: Logger, budget: number): Promise<number> {
  let done = 0;
  for (let left = budget; left > 0; ) {
    const outcome = await applyAlone(orm, logger);
    if (outcome === null) break;
    done++;
    left -= outcome;
  }
  return done;
}

/** Applies the oldest queued job alone and returns its command count, or null when none is queued. */
async function applyAlone(orm: Orm, logger: Logger): Promise<number | null> {
  try {
    return await inApplyTransaction(orm, async (client) => {
      const [job] = await claimCommandJobs(client, 1);
      if (!job) return null;
      await applyClaimed(client, [job]);
      return job.payload.commands.length;
    });
  } catch (err) {
    if (isTransientDbError(err)) throw err;
    return inApplyTransaction(orm, async (client) => {
      const [job] = await claimCommandJobs(client, 1);
      if (!job) return null;
      await finishJobs(client, [{ id: job.id, status: 'failed', error: { code: 'internal', message: 'the database refused this job; see the worker logs' } }]);
      logger.error({ err, job_id: job.id }, 'job failed for good');
      return job.payload.commands.length;
    });
  }
}
