import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';

/**
 * The `commands` queue: command and batch jobs. A BullMQ job only wakes a drain (commands.worker.ts):
 * the work itself, its status and its counts are in PostgreSQL, and the BullMQ job id is the
 * PostgreSQL job id (so a job handed over twice is one BullMQ job).
 */
export const COMMANDS_QUEUE = 'commands';
export type CommandsJobName = 'apply-command';
export type CommandsJobData = { jobId: string };
export type CommandsQueue = Queue<CommandsJobData, unknown, CommandsJobName>;

/** Retried with backoff on a transient failure; kept a while for the queue board. */
export const commandJobOptions = (jobId: string): JobsOptions => ({
  jobId,
  attempts: 8,
  backoff: { type: 'exponential', delay: 1_000 },
  removeOnComplete: { age: 3_600, count: 10_000 },
  removeOnFail: { age: 24 * 3_600, count: 10_000 },
});

export const createCommandsQueue = (connection: ConnectionOptions, prefix: string): CommandsQueue =>
  new Queue<CommandsJobData, unknown, CommandsJobName>(COMMANDS_QUEUE, { connection, prefix });

/** Tells the command workers that these jobs (committed in PostgreSQL) have work: one addBulk. */
export async function enqueueCommandJobs(queue: CommandsQueue, jobIds: string[]): Promise<void> {
  if (jobIds.length) await queue.addBulk(jobIds.map((jobId) => ({ name: 'apply-command' as const, data: { jobId }, opts: commandJobOptions(jobId) })));
}
