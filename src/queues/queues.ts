import type { JobType } from '../jobs/job.model.js';
import type { QueueBackend } from './backend.js';
import { createCommandsQueue, enqueueCommandJobs, type CommandsQueue } from './commands.queue.js';
import { createImportsQueue, enqueueImportJobs, type ImportsQueue } from './imports.queue.js';

/** Producer handles for every queue of the service. */
export type Queues = {
  commands: CommandsQueue;
  imports: ImportsQueue;
  close(): Promise<void>;
};

export const QUEUE_NAMES = ['commands', 'imports'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

/**
 * Both queues, on the deployment's backend. A queue's errors go to `onError`: without a listener
 * BullMQ writes them to the console, raw and multi-line, once per queue for every failed reconnect.
 */
export function createQueues(backend: QueueBackend, onError: (err: Error) => void): Queues {
  const commands = createCommandsQueue(backend);
  const imports = createImportsQueue(backend);
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

/** Which queue a job of each type goes to. */
export function queueNameFor(type: JobType): QueueName {
  switch (type) {
    case 'command':
    case 'batch':
      return 'commands';
    case 'import':
    case 'revert':
      // A revert can undo a million changes: it runs with the imports, one at a time.
      return 'imports';
    default: {
      const unknown: never = type;
      throw new Error(`no queue for job type ${String(unknown)}`);
    }
  }
}

/** The queue a job of `type` goes to. */
export const queueFor = (queues: Queues, type: JobType): CommandsQueue | ImportsQueue => queues[queueNameFor(type)];

/** The PostgreSQL job ids a wake-up is for (a wake-up of an older version names one). */
export const jobIdsOf = (data: { jobIds: string[] } | { jobId: string }): string[] => ('jobIds' in data ? data.jobIds : [data.jobId]);

/** Wakes the workers for these jobs (already committed in PostgreSQL): one BullMQ job per queue that has any. */
export async function enqueueJobs(queues: Queues, jobs: Array<{ id: string; type: JobType }>): Promise<void> {
  const ids = (name: QueueName) => jobs.filter((j) => queueNameFor(j.type) === name).map((j) => j.id);
  await Promise.all([enqueueCommandJobs(queues.commands, ids('commands')), enqueueImportJobs(queues.imports, ids('imports'))]);
}
