import { pino, type Logger } from 'pino';
import type { Config } from './config.js';

export type { Logger };

/**
 * The one pino logger of a process; children add `request_id` / `job_id` to every line they log.
 * Services log to stdout, asynchronously: lines logged while a write is under way go out
 * together in the next one (one syscall for many requests under load, nothing held back when
 * idle; pino flushes what is left on exit). Command-line tools whose stdout is their report log
 * to stderr, synchronously, so their lines and their report keep their order.
 */
export function createLogger(
  config: Pick<Config, 'logLevel' | 'logFormat'>,
  name: string,
  destination: 'stdout' | 'stderr' = 'stdout',
): Logger {
  const fd = destination === 'stdout' ? 1 : 2;
  if (config.logFormat === 'pretty') {
    // For people reading the logs (a terminal, `docker compose logs`): pino-pretty ships with the service.
    return pino({ name, level: config.logLevel, transport: { target: 'pino-pretty', options: { colorize: true, destination: fd } } });
  }
  return pino({ name, level: config.logLevel }, pino.destination({ dest: fd, sync: destination === 'stderr' }));
}
