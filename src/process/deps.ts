import type { Config } from './config.js';
import { initORM, type Orm } from '../db/orm.js';
import { createLogger, type Logger } from './logger.js';
import { createMetrics, type Metrics } from './metrics.js';
import { createQueueBackend, type QueueBackend } from '../queues/backend.js';
import { createQueues, type Queues } from '../queues/queues.js';
import { assertQueueSchema } from '../db/migrate.js';

/** Everything a process needs, built once from the config and passed explicitly. */
export type Deps = {
  config: Config;
  logger: Logger;
  orm: Orm;
  /** Where the queues live (QUEUE_BACKEND): Redis, or BullMQ's PostgreSQL backend. */
  queueBackend: QueueBackend;
  metrics: Metrics;
  queues: Queues;
  /** Closes every connection; idempotent. */
  close(): Promise<void>;
};

/**
 * Connects PostgreSQL (through the ORM) and the queue backend for an API (`producer`) or worker
 * process. On the PostgreSQL backend BullMQ's schema must have been migrated first (a queue made
 * before that stays broken): a clear error says so.
 */
export async function createDeps(config: Config, role: 'api' | 'worker', logger?: Logger): Promise<Deps> {
  const log = logger ?? createLogger(config, role);
  const orm = await initORM(config.databaseUrl);
  if (config.queueBackend === 'postgres') {
    await assertQueueSchema(orm).catch(async (err: unknown) => {
      await orm.close();
      throw err;
    });
  }
  const queueBackend = createQueueBackend(config, role, log);
  // The same outage, seen again by each queue on that connection: logged once by the backend.
  const queues = createQueues(queueBackend, (err) => log.debug({ err: err.message }, 'queue error'));
  let closing: Promise<void> | undefined;
  return {
    config,
    logger: log,
    orm,
    queueBackend,
    metrics: createMetrics({ orm, queues, queueBackend }),
    queues,
    close: () =>
      (closing ??= (async () => {
        await queues.close().catch(() => {});
        await Promise.allSettled([orm.close(), queueBackend.close()]);
      })()),
  };
}
