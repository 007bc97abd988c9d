import { loadConfigOrExit } from './process/config.js';
import { createDeps } from './process/deps.js';
import { onShutdown } from './process/lifecycle.js';
import { createLogger } from './process/logger.js';
import { startApi } from './process/server.js';
import { exitOnSetupError, warnOnDevTokens } from './process/startup.js';

/** `npm run start:api`: the HTTP API only. */
const config = loadConfigOrExit();
const logger = createLogger(config, 'api');
warnOnDevTokens(config, logger);
const deps = await createDeps(config, 'api', logger).catch(exitOnSetupError);
const api = await startApi(deps);
onShutdown(logger, async () => {
  await api.close();
  await deps.close();
});
