import { Redis } from 'ioredis';

/**
 * A Redis connection for BullMQ. Workers block on Redis and must retry forever
 * (`maxRetriesPerRequest: null`, as BullMQ requires); the API's producer gives up after one
 * reconnect instead, so a request never hangs on a Redis outage (the job is already safe in
 * PostgreSQL and a worker's relay hands it to BullMQ).
 */
export function createRedis(url: string, role: 'worker' | 'producer'): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: role === 'worker' ? null : 1,
    connectTimeout: 5_000,
    lazyConnect: false,
  });
}

/**
 * Whether a connection is up right now. A worker's connection (which retries for ever) holds every
 * command sent while it is not, and sends them all once Redis is back: so a worker sends nothing it
 * can do without, and when closing neither waits for its current job (it can neither hand it back
 * nor acknowledge it; its lock lapses and a worker takes it up again, as after a SIGKILL) nor sends
 * QUIT.
 */
export const redisUp = (redis: Redis): boolean => redis.status === 'ready';

/** ioredis states of a connection that was lost (or closed), as opposed to one still being made. */
const LOST = new Set(['reconnecting', 'close', 'end']);

/** Whether a connection was lost, and not merely not made yet (while first connecting, a command waits for it). */
export const redisLost = (redis: Redis): boolean => LOST.has(redis.status);
