import { loadConfigOrExit } from '../src/process/config.js';
import { createDeps } from '../src/process/deps.js';
import { onShutdown } from '../src/process/lifecycle.js';
import { createLogger } from '../src/process/logger.js';
import { startHeartbeat } from '../src/process/readiness.js';
import { exitOnSetupError } from '../src/process/startup.js';
import { closeWorkers, startWorkers } from './index.js';

/** `npm run start:worker`: the queue workers only; run as many as you like, anywhere. */
const config = loadConfigOrExit();
const logger = createLogger(config, 'worker');
const deps = await createDeps(config, 'worker', logger).catch(exitOnSetupError);
const workers = await startWorkers(deps);
const stopHeartbeat = config.workerHeartbeatFile ? startHeartbeat(deps, config.workerHeartbeatFile, logger) : () => {};
onShutdown(logger, async () => {
  stopHeartbeat();
  await closeWorkers(workers);
  await deps.close();
});
