import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';

/**
 * The `imports` queue: CSV imports. A BullMQ job only says "imports have work" (imports.worker.ts
 * runs the oldest unfinished import); the BullMQ job id is the PostgreSQL job id.
 */
export const IMPORTS_QUEUE = 'imports';
export type ImportsJobName = 'apply-import';
export type ImportsJobData = { jobId: string };
export type ImportsQueue = Queue<ImportsJobData, unknown, ImportsJobName>;

/** Retried with backoff on a transient failure (the checkpoint makes a retry exact); kept a while for the queue board. */
export const importJobOptions = (jobId: string): JobsOptions => ({
  jobId,
  attempts: 8,
  backoff: { type: 'exponential', delay: 1_000 },
  removeOnComplete: { age: 3_600, count: 10_000 },
  removeOnFail: { age: 24 * 3_600, count: 10_000 },
});

export const createImportsQueue = (connection: ConnectionOptions, prefix: string): ImportsQueue =>
  new Queue<ImportsJobData, unknown, ImportsJobName>(IMPORTS_QUEUE, { connection, prefix });

/** Tells the import workers that these imports (committed in PostgreSQL) have work: one addBulk. */
export async function enqueueImportJobs(queue: ImportsQueue, jobIds: string[]): Promise<void> {
  if (jobIds.length) await queue.addBulk(jobIds.map((jobId) => ({ name: 'apply-import' as const, data: { jobId }, opts: importJobOptions(jobId) })));
}
