import type { Redis } from 'ioredis';
import type { Config } from './config.js';
import { initORM, type Orm } from '../db/orm.js';
import { createLogger, type Logger } from './logger.js';
import { createMetrics, type Metrics } from './metrics.js';
import { createQueues, type Queues } from '../queues/queues.js';
import { createRedis, redisUp } from '../queues/redis.js';

/** Everything a process needs, built once from the config and passed explicitly. */
export type Deps = {
  config: Config;
  logger: Logger;
  orm: Orm;
  redis: Redis;
  metrics: Metrics;
  queues: Queues;
  /** Closes every connection; idempotent. */
  close(): Promise<void>;
};

/** Connects PostgreSQL (through the ORM) and Redis for an API (`producer`) or worker process. */
export async function createDeps(config: Config, role: 'api' | 'worker', logger?: Logger): Promise<Deps> {
  const log = logger ?? createLogger(config, role);
  const orm = await initORM(config.databaseUrl);
  const redis = createRedis(config.redisUrl, role === 'worker' ? 'worker' : 'producer');
  // ioredis reconnects by itself; an error event without a listener would crash the process.
  redis.on('error', (err) => log.warn({ err: err.message }, 'redis connection error'));
  // The same outage, seen again by each queue on that connection: logged once above.
  const queues = createQueues(redis, config.queuePrefix, (err) => log.debug({ err: err.message }, 'queue error'));
  let closing: Promise<void> | undefined;
  return {
    config,
    logger: log,
    orm,
    redis,
    metrics: createMetrics({ orm, queues }),
    queues,
    close: () =>
      (closing ??= (async () => {
        await queues.close().catch(() => {});
        // QUIT would wait for a reconnect that may never come.
        await Promise.allSettled([orm.close(), redisUp(redis) ? redis.quit().catch(() => redis.disconnect()) : redis.disconnect()]);
      })()),
  };
}
