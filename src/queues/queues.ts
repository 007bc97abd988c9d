import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { JobType } from '../jobs/job.repository.js';

/**
 * The queues, one payload type each. A BullMQ job only says "job <id> has work": the work itself,
 * its status and its counts are in PostgreSQL, and the BullMQ job id is the PostgreSQL job id.
 */
export type QueueName = 'commands' | 'imports';
export type JobData = { jobId: string };

/** The one place that builds job options: dedup by id, retries with backoff, bounded retention. */
export function jobOptions(jobId: string): JobsOptions {
  return {
    jobId,
    attempts: 8,
    backoff: { type: 'exponential', delay: 1_000 },
    removeOnComplete: { age: 3_600, count: 10_000 },
    removeOnFail: { age: 24 * 3_600, count: 10_000 },
  };
}

export type Queues = {
  commands: Queue<JobData, unknown, 'apply-command'>;
  imports: Queue<JobData, unknown, 'apply-import'>;
  close(): Promise<void>;
};

/**
 * Producer handles for both queues, sharing one Redis connection. A queue's errors go to `onError`:
 * without a listener BullMQ writes them to the console, raw and multi-line, once per queue for
 * every failed reconnect.
 */
export function createQueues(connection: Redis, prefix: string, onError: (err: Error) => void): Queues {
  const commands = new Queue<JobData, unknown, 'apply-command'>('commands', { connection, prefix });
  const imports = new Queue<JobData, unknown, 'apply-import'>('imports', { connection, prefix });
  commands.on('error', onError);
  imports.on('error', onError);
  return {
    commands,
    imports,
    close: async () => {
      await Promise.all([commands.close(), imports.close()]);
    },
  };
}

/** The queue a job of `type` goes to: imports to `imports`, commands and batches to `commands`. */
export function queueFor(queues: Queues, type: JobType): Queue<JobData, unknown, 'apply-command' | 'apply-import'> {
  return (type === 'import' ? queues.imports : queues.commands) as Queue<JobData, unknown, 'apply-command' | 'apply-import'>;
}

/** Tells the workers that these jobs (already committed in PostgreSQL) have work: one addBulk per queue. */
export async function enqueueJobs(queues: Queues, jobs: Array<{ id: string; type: JobType }>): Promise<void> {
  const commands = jobs.filter((j) => j.type !== 'import');
  const imports = jobs.filter((j) => j.type === 'import');
  if (commands.length) await queues.commands.addBulk(commands.map((j) => ({ name: 'apply-command' as const, data: { jobId: j.id }, opts: jobOptions(j.id) })));
  if (imports.length) await queues.imports.addBulk(imports.map((j) => ({ name: 'apply-import' as const, data: { jobId: j.id }, opts: jobOptions(j.id) })));
}
