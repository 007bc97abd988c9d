import type { Redis } from 'ioredis';
import type { JobType } from '../jobs/job.model.js';
import { createCommandsQueue, enqueueCommandJobs, type CommandsQueue } from './commands.queue.js';
import { createImportsQueue, enqueueImportJobs, type ImportsQueue } from './imports.queue.js';

/** Producer handles for every queue of the service. */
export type Queues = {
  commands: CommandsQueue;
  imports: ImportsQueue;
  close(): Promise<void>;
};

/**
 * Both queues, sharing one Redis connection. A queue's errors go to `onError`: without a listener
 * BullMQ writes them to the console, raw and multi-line, once per queue for every failed reconnect.
 */
export function createQueues(connection: Redis, prefix: string, onError: (err: Error) => void): Queues {
  const commands = createCommandsQueue(connection, prefix);
  const imports = createImportsQueue(connection, prefix);
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
export function queueNameFor(type: JobType): 'commands' | 'imports' {
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

/** Tells the workers that these jobs (already committed in PostgreSQL) have work: one addBulk per queue. */
export async function enqueueJobs(queues: Queues, jobs: Array<{ id: string; type: JobType }>): Promise<void> {
  const ids = (name: 'commands' | 'imports') => jobs.filter((j) => queueNameFor(j.type) === name).map((j) => j.id);
  await enqueueCommandJobs(queues.commands, ids('commands'));
  await enqueueImportJobs(queues.imports, ids('imports'));
}
