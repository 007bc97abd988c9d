import type { Deps } from '../src/process/deps.js';
import { startReconciler } from '../src/jobs/reconciler.js';
import { startRelay } from '../src/jobs/relay.js';
import { createCommandWorker } from './commands.worker.js';
import { createImportWorker } from './imports.worker.js';
import type { RunningWorker } from './running-worker.js';


/** Starts every queue worker of this process, with the relay that hands new jobs to BullMQ and the reconciler. */
export async function startWorkers(deps: Deps): Promise<RunningWorker[]> {
  const running: RunningWorker[] = [createCommandWorker(deps), createImportWorker(deps), startRelay(deps), startReconciler(deps)];
  deps.logger.info({ workers: running.map((w) => w.name) }, 'workers started');
  return running;
}

/** Closes workers in parallel: each hands back or finishes its current job. */
export async function closeWorkers(workers: RunningWorker[]): Promise<void> {
  await Promise.all(workers.map((w) => w.close()));
}
