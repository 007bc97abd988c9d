import type { JobsOptions } from 'bullmq';
import type { AppQueue, QueueBackend } from './backend.js';

/**
 * The `commands` queue: command and batch jobs. A BullMQ job is a wake-up for the jobs it names,
 * all committed in PostgreSQL: the drain (commands.worker.ts) claims every queued command job
 * there, oldest first, many per transaction, and the BullMQ job ends once each job it names is
 * finished. One BullMQ job per hand-over, not per job: on BullMQ's PostgreSQL backend a BullMQ job
 * costs about a millisecond, so one per command would cap commands at ~1,000/s.
 */
export const COMMANDS_QUEUE = 'commands';
/** `apply-command` ({ jobId }): a wake-up handed over by a version before the batched hand-over, still served. */
export type CommandsJobName = 'apply-commands' | 'apply-command';
/** The PostgreSQL ids of the jobs this wake-up is for, in acceptance order. */
export type CommandsJobData = { jobIds: string[] } | { jobId: string };
export type CommandsQueue = AppQueue<CommandsJobData, CommandsJobName>;

/**
 * Retried with backoff on a transient failure. BullMQ assigns the id: a wake-up handed over twice
 * (a crash between the add and the relay's commit) wakes a drain that finds its jobs finished.
 * Finished wake-ups are kept an hour for the queue board (by age: a `count` bound makes BullMQ's
 * PostgreSQL backend trim on every completion, several times slower).
 */
export const commandJobOptions: JobsOptions = {
  attempts: 8,
  backoff: { type: 'exponential', delay: 1_000 },
  removeOnComplete: { age: 3_600 },
  removeOnFail: { age: 24 * 3_600 },
};

export const createCommandsQueue = (backend: QueueBackend): CommandsQueue => backend.createQueue<CommandsJobData, CommandsJobName>(COMMANDS_QUEUE);

/** Wakes the command workers for these jobs (committed in PostgreSQL): one BullMQ job for all of them. */
export async function enqueueCommandJobs(queue: CommandsQueue, jobIds: string[]): Promise<void> {
  if (jobIds.length) await queue.add('apply-commands', { jobIds }, commandJobOptions);
}
