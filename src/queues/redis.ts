import { Redis } from 'ioredis';

/**
 * A Redis connection for BullMQ (QUEUE_BACKEND=redis, backend.ts). Workers block on Redis and must
 * retry forever (`maxRetriesPerRequest: null`, as BullMQ requires); the API's producer gives up
 * after one reconnect instead, so a request never hangs on a Redis outage (the job is already safe
 * in PostgreSQL and a worker's relay hands it to BullMQ).
 */
export function createRedis(url: string, role: 'worker' | 'producer'): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: role === 'worker' ? null : 1,
    connectTimeout: 5_000,
    lazyConnect: false,
  });
}
