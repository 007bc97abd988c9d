import { QueueSchemaMissingError } from '../db/migrate.js';
import { DEV_TOKENS, type Config } from './config.js';
import type { Logger } from './logger.js';

/**
 * For a process's start-up (`createDeps(…).catch(exitOnSetupError)`): a setup the operator has to
 * fix (BullMQ's schema not migrated on QUEUE_BACKEND=postgres) is one line on stderr naming the
 * fix and exit 1, not a stack trace. Anything else is rethrown as it is.
 */
export function exitOnSetupError(err: unknown): never {
  if (err instanceof QueueSchemaMissingError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
  throw err;
}

/** Outside production, unset tokens fall back to documented development tokens (loopback only): say so loudly. */
export function warnOnDevTokens(config: Config, logger: Logger): void {
  if (config.devTokens) {
    logger.warn(
      { admin_token: DEV_TOKENS.admin, read_token: DEV_TOKENS.read },
      'ADMIN_TOKEN/READ_TOKEN not set: using the development tokens, accepted from loopback only (refused when NODE_ENV=production)',
    );
  }
}
