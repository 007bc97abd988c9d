import { Queue, Worker, createPostgresBackend, type IQueueBackend, type Processor, type WorkerOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../process/config.js';
import type { Logger } from '../process/logger.js';
import { createRedis } from './redis.js';

/** Where BullMQ keeps its queues (QUEUE_BACKEND, CONTRACT §8). */
export type QueueBackendKind = 'redis' | 'postgres';

/** BullMQ's schema in the service's own database, on the PostgreSQL backend. */
export const BULLMQ_SCHEMA = 'bullmq';

/** A BullMQ queue on either backend (the job types stay typed; the backend is chosen at run time). */
export type AppQueue<D, N extends string> = Queue<D, unknown, N, D, unknown, N, IQueueBackend, unknown>;
export type AppWorker<D, N extends string> = Worker<D, unknown, N, IQueueBackend>;

/**
 * The store BullMQ's queues live in, behind one interface: the relay, the workers, readiness, the
 * metrics and shutdown ask it, never Redis or PostgreSQL directly.
 */
export type QueueBackend = {
  kind: QueueBackendKind;
  /**
   * Whether a call can be sent right now. A worker's Redis connection (which retries for ever)
   * holds every command sent while it is down and sends them all once Redis is back, so callers
   * send nothing they can do without, and a closing worker neither waits for its current job nor
   * says goodbye. PostgreSQL refuses a call at once when it is down: always true.
   */
  up(): boolean;
  /** Why it is not up, for messages (`reconnecting`), or `ready`. */
  state(): string;
  /** Answers within the caller's timeout when the store can be reached; rejects otherwise. */
  ping(): Promise<void>;
  createQueue<D, N extends string>(name: string): AppQueue<D, N>;
  createWorker<D, N extends string>(name: string, processor: Processor<D, unknown, N>, opts: Omit<WorkerOptions, 'connection'>): AppWorker<D, N>;
  /** Redis only: the raw connection (the tests flush it). */
  redis?: Redis;
  /** Closes what the backend opened itself (queues and workers close their own). Idempotent. */
  close(): Promise<void>;
};

/** BullMQ's pool per queue or worker on PostgreSQL: small, each process has four of them. */
const PG_POOL_MAX = 3;

/** The backend named by `config.queueBackend`, for an API (`producer`) or a worker process. */
export function createQueueBackend(config: Pick<Config, 'queueBackend' | 'redisUrl' | 'databaseUrl' | 'queuePrefix'>, role: 'api' | 'worker', log: Logger): QueueBackend {
  return config.queueBackend === 'postgres' ? postgresBackend(config.databaseUrl) : redisBackend(config, role, log);
}

function redisBackend(config: Pick<Config, 'redisUrl' | 'queuePrefix'>, role: 'api' | 'worker', log: Logger): QueueBackend {
  const redis = createRedis(config.redisUrl, role === 'worker' ? 'worker' : 'producer');
  // ioredis reconnects by itself; an error event without a listener would crash the process.
  redis.on('error', (err) => log.warn({ err: err.message }, 'redis connection error'));
  const lost = () => LOST.has(redis.status);
  let closing: Promise<void> | undefined;
  return {
    kind: 'redis',
    redis,
    up: () => redis.status === 'ready',
    state: () => redis.status,
    // Not pinged once the connection is lost (a worker's would queue the PING until Redis is back);
    // while it is first connecting, the PING waits for it, within the caller's timeout.
    ping: async () => {
      if (lost()) throw new Error(`redis is ${redis.status}`);
      await redis.ping();
    },
    createQueue: <D, N extends string>(name: string) => new Queue<D, unknown, N, D, unknown, N, IQueueBackend, unknown>(name, { connection: redis, prefix: config.queuePrefix }) as AppQueue<D, N>,
    createWorker: <D, N extends string>(name: string, processor: Processor<D, unknown, N>, opts: Omit<WorkerOptions, 'connection'>) =>
      new Worker<D, unknown, N>(name, processor, { ...opts, connection: redis, prefix: config.queuePrefix }) as unknown as AppWorker<D, N>,
    // QUIT would wait for a reconnect that may never come.
    close: () => (closing ??= redis.status === 'ready' ? redis.quit().then(() => {}, () => redis.disconnect()) : Promise.resolve(redis.disconnect())),
  };
}

/** ioredis states of a connection that was lost (or closed), as opposed to one still being made. */
const LOST = new Set(['reconnecting', 'close', 'end']);

/**
 * BullMQ's PostgreSQL backend in the service's database, schema `bullmq` (its migrations are
 * applied by `npm run migrate`, src/db/migrate.ts). Each queue and worker owns a small pool; the
 * probe goes through a queue, so it also fails when BullMQ's schema is missing.
 */
function postgresBackend(databaseUrl: string): QueueBackend {
  const connection = { connectionString: databaseUrl, schema: BULLMQ_SCHEMA, max: PG_POOL_MAX, keepAlive: true };
  let probe: AppQueue<unknown, string> | undefined;
  const backend: QueueBackend = {
    kind: 'postgres',
    up: () => true,
    state: () => 'ready',
    ping: async () => {
      probe ??= backend.createQueue('commands');
      await probe.getJobCounts('wait');
    },
    createQueue: <D, N extends string>(name: string) =>
      new Queue<D, unknown, N, D, unknown, N, IQueueBackend, unknown>(name, { connection } as never, createPostgresBackend as never) as AppQueue<D, N>,
    createWorker: <D, N extends string>(name: string, processor: Processor<D, unknown, N>, opts: Omit<WorkerOptions, 'connection'>) =>
      new Worker<D, unknown, N, IQueueBackend>(name, processor, { ...opts, connection } as never, createPostgresBackend as never) as AppWorker<D, N>,
    close: async () => {
      await probe?.close().catch(() => {});
      probe = undefined;
    },
  };
  return backend;
}
