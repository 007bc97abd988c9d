import { pino, type Logger } from 'pino';
import type { Config } from './config.js';

export type { Logger };

/** The one pino logger of a process; children add `request_id` / `job_id` to every line they log. */
export function createLogger(config: Pick<Config, 'logLevel' | 'logFormat'>, name: string): Logger {
  return pino({
    name,
    level: config.logLevel,
    // pino-pretty is a dev dependency: pretty output is for people at a terminal, not for production.
    transport: config.logFormat === 'pretty' ? { target: 'pino-pretty', options: { colorize: true } } : undefined,
  });
}
