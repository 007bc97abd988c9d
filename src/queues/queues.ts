import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';

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

/** Producer handles for both queues, sharing one Redis connection. */
export function createQueues(connection: Redis, prefix: string): Queues {
  const commands = new Queue<JobData, unknown, 'apply-command'>('commands', { connection, prefix });
  const imports = new Queue<JobData, unknown, 'apply-import'>('imports', { connection, prefix });
  return {
    commands,
    imports,
    close: async () => {
      await Promise.all([commands.close(), imports.close()]);
    },
  };
}

/** Tells the workers that job `jobId` (already committed in PostgreSQL) has work. */
export async function enqueueJob(queues: Queues, type: 'command' | 'batch' | 'import', jobId: string): Promise<void> {
  if (type === 'import') await queues.imports.add('apply-import', { jobId }, jobOptions(jobId));
  else await queues.commands.add('apply-command', { jobId }, jobOptions(jobId));
}
