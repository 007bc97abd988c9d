import { UnrecoverableError, Worker, type Processor } from 'bullmq';
import { coalesce } from '../src/async/coalesce.js';
import type { Deps } from '../src/process/deps.js';
import { redisUp } from '../src/queues/redis.js';
import { drainCommandJobs } from '../src/commands/command-apply.service.js';
import { markJobFailed } from '../src/jobs/job-finish.repository.js';
import { FINISHED } from '../src/jobs/job.model.js';
import { jobStatus } from '../src/jobs/job.repository.js';
import { COMMANDS_QUEUE, type CommandsJobData, type CommandsJobName } from '../src/queues/commands.queue.js';
import type { RunningWorker } from './running-worker.js';

/** Waiting command jobs handled at once per process; they share drains, so this is cheap. */
const CONCURRENCY = 64;

/**
 * The `commands` queue worker. A BullMQ job only wakes the drain: the drain applies every queued
 * command job in PostgreSQL, oldest first, many per transaction, and the processor returns once
 * PostgreSQL says its own job is finished.
 */
export function createCommandWorker(deps: Deps): RunningWorker {
  const log = deps.logger.child({ worker: 'commands' });
  let closing = false;
  // On shutdown the drain stops between transactions; what is left is picked up by another worker.
  const drain = coalesce(() => drainCommandJobs(deps.orm, log, () => closing));

  const processor: Processor<CommandsJobData, unknown, CommandsJobName> = async (job) => {
    switch (job.name) {
      case 'apply-command':
        for (let pass = 0; pass < 3; pass++) {
          const status = await jobStatus(deps.orm, job.data.jobId);
          if (status === null) throw new UnrecoverableError(`job ${job.data.jobId} is not in PostgreSQL`);
          if (FINISHED.has(status)) return { status };
          if (closing) throw new Error('worker shutting down: the job goes back to the queue');
          await drain();
        }
        throw new Error(`job ${job.data.jobId} still unfinished after three drains`);
      default: {
        const unknown: never = job.name;
        throw new UnrecoverableError(`unknown job name ${String(unknown)}`);
      }
    }
  };

  const worker = new Worker<CommandsJobData, unknown, CommandsJobName>(COMMANDS_QUEUE, processor, {
    connection: deps.redis,
    prefix: deps.config.queuePrefix,
    concurrency: CONCURRENCY,
  });
  // Its connection errors come here once per retry: the message is enough (deps.ts logs the outage).
  worker.on('error', (err) => log.warn({ err: err.message }, 'worker error'));
  worker.on('failed', (job, err) => {
    if (!job) return;
    const final = job.attemptsMade >= (job.opts.attempts ?? 1) || err instanceof UnrecoverableError;
    const jobLog = log.child({ job_id: job.data.jobId });
    jobLog.warn({ err: err.message, final }, 'command job attempt failed');
    if (!final) return;
    // The client sees a plain message; the database error itself stays in the logs.
    const message = `the job could not be applied after ${job.attemptsMade} attempts; see the worker logs`;
    void markJobFailed(deps.orm, job.data.jobId, message).catch((e) => jobLog.error({ err: e }, 'could not mark job failed'));
  });
  return {
    name: 'commands',
    close: () => {
      closing = true;
      return worker.close(!redisUp(deps.redis));
    },
  };
}
