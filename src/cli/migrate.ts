import { loadConfigOrExit } from '../process/config.js';
import { migrate } from '../db/migrate.js';
import { createLogger } from '../process/logger.js';

/** `npm run migrate`: create the database if missing and apply every migration (BullMQ's too on QUEUE_BACKEND=postgres). */
const config = loadConfigOrExit();
const logger = createLogger(config, 'migrate');
try {
  await migrate(config.databaseUrl, logger, { queueSchema: config.queueBackend === 'postgres' });
} catch (err) {
  logger.fatal({ err }, 'migration failed');
  process.exitCode = 1;
}
