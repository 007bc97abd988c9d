import { closeWorkers, startWorkers } from '../workers/index.js';
import { loadConfigOrExit } from './process/config.js';
import { migrate } from './db/migrate.js';
import { createDeps } from './process/deps.js';
import { onShutdown } from './process/lifecycle.js';
import { createLogger } from './process/logger.js';
import { startApi } from './process/server.js';
import { warnOnDevTokens } from './process/startup.js';

/** `npm start`: migrate, then the API and the workers in one process. */
const config = loadConfigOrExit();
const logger = createLogger(config, 'enrollment-service');
warnOnDevTokens(config, logger);
await migrate(config.databaseUrl, logger, { queueSchema: config.queueBackend === 'postgres' });
const apiDeps = await createDeps(config, 'api', logger);
const workerDeps = await createDeps(config, 'worker', logger);
const workers = await startWorkers(workerDeps);
const api = await startApi(apiDeps);
onShutdown(logger, async () => {
  // In parallel: a slow client must not keep the workers from handing their jobs back.
  await Promise.all([api.close(), closeWorkers(workers)]);
  await Promise.all([apiDeps.close(), workerDeps.close()]);
});
