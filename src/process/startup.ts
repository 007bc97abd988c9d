import { DEV_TOKENS, type Config } from './config.js';
import type { Logger } from './logger.js';

/** Outside production, unset tokens fall back to documented development tokens (loopback only): say so loudly. */
export function warnOnDevTokens(config: Config, logger: Logger): void {
  if (config.devTokens) {
    logger.warn(
      { admin_token: DEV_TOKENS.admin, read_token: DEV_TOKENS.read },
      'ADMIN_TOKEN/READ_TOKEN not set: using the development tokens, accepted from loopback only (refused when NODE_ENV=production)',
    );
  }
}
