import { Redis } from 'ioredis';

/**
 * A Redis connection for BullMQ. Workers block on Redis and must retry forever
 * (`maxRetriesPerRequest: null`, as BullMQ requires); the API's producer gives up after one
 * reconnect instead, so a request never hangs on a Redis outage (the job is already safe in
 * PostgreSQL and the reconciler enqueues it later).
 */
export function createRedis(url: string, role: 'worker' | 'producer'): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: role === 'worker' ? null : 1,
    connectTimeout: 5_000,
    lazyConnect: false,
  });
}

/** Resolves when `promise` does within `ms`, else rejects: health checks must not hang. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
