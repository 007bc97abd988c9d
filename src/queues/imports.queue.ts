import type { JobsOptions } from 'bullmq';
import type { AppQueue, QueueBackend } from './backend.js';

/**
 * The `imports` queue: CSV imports and reverts. A BullMQ job is a wake-up for the imports it
 * names (imports.worker.ts runs the oldest unfinished import, one at a time, until each of them is
 * settled); the work and its checkpoints are in PostgreSQL.
 */
export const IMPORTS_QUEUE = 'imports';
/** `apply-import` ({ jobId }): a wake-up handed over by a version before the batched hand-over, still served. */
export type ImportsJobName = 'apply-imports' | 'apply-import';
/** The PostgreSQL ids of the imports and reverts this wake-up is for, in acceptance order. */
export type ImportsJobData = { jobIds: string[] } | { jobId: string };
export type ImportsQueue = AppQueue<ImportsJobData, ImportsJobName>;

/** Retried with backoff on a transient failure (the checkpoint makes a retry exact); kept a while for the queue board. */
export const importJobOptions: JobsOptions = {
  attempts: 8,
  backoff: { type: 'exponential', delay: 1_000 },
  removeOnComplete: { age: 3_600 },
  removeOnFail: { age: 24 * 3_600 },
};

export const createImportsQueue = (backend: QueueBackend): ImportsQueue => backend.createQueue<ImportsJobData, ImportsJobName>(IMPORTS_QUEUE);

/** Wakes the import workers for these imports (committed in PostgreSQL): one BullMQ job for all of them. */
export async function enqueueImportJobs(queue: ImportsQueue, jobIds: string[]): Promise<void> {
  if (jobIds.length) await queue.add('apply-imports', { jobIds }, importJobOptions);
}
