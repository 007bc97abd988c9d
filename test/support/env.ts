import { loadConfig, type Config } from '../../src/process/config.js';

/**
 * Where tests run: a dedicated database and Redis index, never development data.
 * Override with TEST_DATABASE_URL / TEST_REDIS_URL (e.g. to run two suites side by side).
 */
// The password is docker-compose's (its PostgreSQL asks for one); a local server with trust auth ignores it.
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres:postgres@127.0.0.1:5432/enrollments_test';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/15';

/** A config for tests: test database, test Redis index, quiet logs, and a queue prefix of its own. */
export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: TEST_DATABASE_URL,
    REDIS_URL: TEST_REDIS_URL,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ADMIN_TOKEN: 'test-admin-token-0123456789',
    READ_TOKEN: 'test-read-token-0123456789',
    QUEUE_PREFIX: `t${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
    ...overrides,
  });
}

export const ADMIN = { Authorization: 'Bearer test-admin-token-0123456789' };
export const READER = { Authorization: 'Bearer test-read-token-0123456789' };
