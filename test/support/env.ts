import { describe, inject, it } from 'vitest';
import { loadConfig, type Config } from '../../src/process/config.js';
import { BASE_REDIS_URL } from './test-urls.js';

declare module 'vitest' {
  /** What the global setup found and chose for this project (global-setup.ts). */
  export interface ProvidedContext {
    testDatabaseUrl: string;
    testQueueBackend: 'redis' | 'postgres';
    /** Why no Redis runs the tests, when none does. */
    noRedisReason: string | null;
  }
}

/** The test database (the one the global setup migrated; an embedded PostgreSQL's when none answered). */
export const TEST_DATABASE_URL = inject('testDatabaseUrl');
export const TEST_REDIS_URL = BASE_REDIS_URL;
/** The queue backend of this run's project: `redis`, or `postgres` for the contract suites' second pass and when no Redis answers. */
export const TEST_QUEUE_BACKEND = inject('testQueueBackend');

/**
 * For tests about Redis itself (its outages, its keys): they run on the Redis backend only, and
 * are otherwise skipped with the reason in their name.
 */
export function describeRedis(name: string, fn: () => void): void {
  if (TEST_QUEUE_BACKEND === 'redis') return void describe(name, fn);
  describe.skip(`${name} (skipped: ${whyNoRedis()})`, fn);
}

/** One test about Redis itself: as describeRedis. */
export function itRedis(name: string, fn: () => Promise<void>, timeout?: number): void {
  if (TEST_QUEUE_BACKEND === 'redis') return void it(name, fn, timeout);
  it.skip(`${name} (skipped: ${whyNoRedis()})`, fn);
}

const whyNoRedis = () => inject('noRedisReason') ?? 'about Redis itself, and this pass runs the queues on PostgreSQL';

/** A config for tests: test database, this project's queue backend, quiet logs, and a queue prefix of its own. */
export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: TEST_DATABASE_URL,
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_BACKEND: TEST_QUEUE_BACKEND,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ADMIN_TOKEN: 'test-admin-token-0123456789',
    READ_TOKEN: 'test-read-token-0123456789',
    QUEUE_PREFIX: `t${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
    ...overrides,
  });
}

export const ADMIN = { Authorization: 'Bearer test-admin-token-0123456789' };
export const READER = { Authorization: 'Bearer test-read-token-0123456789' };
