import { defineConfig } from 'vitest/config';
import { redisAnswers } from './test/support/global-setup.js';

/**
 * The contract suites (CONTRACT §8: everything holds on both queue backends), run a second time on
 * BullMQ's PostgreSQL backend, in a database of their own (test/support/test-urls.ts).
 */
const CONTRACT_SUITES = [
  'test/commands-*.test.ts',
  'test/imports-*.test.ts',
  'test/jobs.test.ts',
  'test/job-events.test.ts',
  'test/idempotency.test.ts',
  'test/durability.test.ts',
  'test/metrics*.test.ts',
  'test/queue-board.test.ts',
  'test/relay.test.ts',
  // A held sync that is approved reaches a worker again (a new wake-up).
  'test/sync/sync-approval.test.ts',
];

/** Matched above but about no queue: the import engine against a reference model, called directly. */
const NOT_ABOUT_QUEUES = ['test/imports-equivalence.test.ts'];

/**
 * Two projects: `redis` runs every test file on the Redis backend; `postgres-queues` runs the
 * contract suites again on the PostgreSQL backend. Without a Redis, one project runs every file on
 * the PostgreSQL backend (the tests about Redis itself say why they are skipped). Files run one
 * after another, across both projects.
 */
export default defineConfig(async () => {
  const redis = await redisAnswers();
  const base = {
    globalSetup: ['test/support/global-setup.ts'],
    // Test files share one test database and Redis index: run them one after another.
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  };
  return {
    test: {
      reporters: ['default'],
      projects: redis
        ? [
            { test: { ...base, name: 'redis', include: ['test/**/*.test.ts'] } },
            { test: { ...base, name: 'postgres-queues', include: CONTRACT_SUITES, exclude: NOT_ABOUT_QUEUES } },
          ]
        : [{ test: { ...base, name: 'postgres', include: ['test/**/*.test.ts'] } }],
    },
  };
});
