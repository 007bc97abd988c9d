import { loadConfigOrExit } from './config.js';
import { createDeps } from './deps.js';
import { onShutdown } from './lifecycle.js';
import { createLogger } from './logger.js';
import { startApi } from './server.js';
import { warnOnDevTokens } from './startup.js';

/** `npm run start:api`: the HTTP API only. */
const config = loadConfigOrExit();
const logger = createLogger(config, 'api');
warnOnDevTokens(config, logger);
const deps = await createDeps(config, 'api', logger);
const api = await startApi(deps);
onShutdown(logger, async () => {
  await api.close();
  await deps.close();
});
