import { execFileSync } from 'node:child_process';
import { chmod, mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { pino } from 'pino';
import type { TestProject } from 'vitest/node';
import { migrate } from '../../src/db/migrate.js';
import { removeDataDir, startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/dev/embedded-postgres.js';
import { BASE_DATABASE_URL, BASE_REDIS_URL, databaseUrlFor } from './test-urls.js';
import { waitFor } from './wait.js';

const adminUrl = (databaseUrl: string) => {
  const u = new URL(databaseUrl);
  u.pathname = '/postgres';
  return u.toString();
};

async function postgresAnswers(databaseUrl: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: adminUrl(databaseUrl), connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

export async function redisAnswers(url = BASE_REDIS_URL): Promise<boolean> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2_000 });
  redis.on('error', () => {});
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

function dockerAvailable(): boolean {
  try {
    execFileSync('docker', ['info'], { stdio: 'ignore', timeout: 5_000 });
    return true;
  } catch {
    return false;
  }
}

/**
 * What this run has, found once for all its projects (kept in the environment of vitest's main
 * process): PostgreSQL at TEST_DATABASE_URL, else docker compose's, else an embedded PostgreSQL
 * started for the run; Redis at TEST_REDIS_URL, else docker compose's, else none (the suite then
 * runs on the PostgreSQL queue backend, and the tests about Redis itself are skipped).
 */
async function ensureServices(): Promise<{ databaseUrl: string; redis: boolean; stop?: () => Promise<void> }> {
  let [postgres, redis] = await Promise.all([postgresAnswers(BASE_DATABASE_URL), redisAnswers()]);
  if ((!postgres || !redis) && dockerAvailable()) {
    execFileSync('docker', ['compose', 'up', '-d', '--wait', ...(postgres ? [] : ['postgres']), ...(redis ? [] : ['redis'])], { stdio: 'inherit' });
    await waitFor('PostgreSQL and Redis to answer', async () => (await postgresAnswers(BASE_DATABASE_URL)) && (await redisAnswers()), { timeoutMs: 60_000, everyMs: 500 }).catch(() => {});
    [postgres, redis] = await Promise.all([postgresAnswers(BASE_DATABASE_URL), redisAnswers()]);
  }
  if (postgres) return { databaseUrl: BASE_DATABASE_URL, redis };
  const server = await startTestPostgres();
  const url = new URL(BASE_DATABASE_URL);
  const embedded = new URL(server.url(decodeURIComponent(url.pathname.slice(1))));
  process.stderr.write(`no PostgreSQL answers at ${BASE_DATABASE_URL}: the tests run on an embedded PostgreSQL ${server.version} at ${embedded.host}\n`);
  return { databaseUrl: embedded.toString(), redis, stop: server.stop };
}

async function startTestPostgres(): Promise<EmbeddedPostgres> {
  const dir = await mkdtemp(path.join(tmpdir(), 'enroll-test-pg-'));
  await chmod(dir, 0o755); // as root the server runs as the user postgres, which must reach its directory
  const server = await startEmbeddedPostgres({ pgdata: path.join(dir, 'pgdata'), port: await freePort(), logFile: path.join(dir, 'postgres.log') });
  return {
    ...server,
    stop: async () => {
      await server.stop();
      await removeDataDir(dir);
    },
  };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

let services: ReturnType<typeof ensureServices> | undefined;

/**
 * Once per project of the run: a fresh test database with every migration (BullMQ's too), an
 * empty test Redis index, and what the tests of the project are to use (env.ts reads it).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const first = !services;
  services ??= ensureServices();
  const found = await services;
  const backend = project.name === 'postgres-queues' || !found.redis ? 'postgres' : 'redis';
  const base = new URL(databaseUrlFor(project.name));
  const databaseUrl = new URL(found.databaseUrl);
  databaseUrl.pathname = base.pathname;
  const dbName = decodeURIComponent(databaseUrl.pathname.slice(1));
  const admin = new pg.Client({ connectionString: adminUrl(databaseUrl.toString()) });
  await admin.connect();
  await admin.query(`drop database if exists ${pg.escapeIdentifier(dbName)} with (force)`);
  await admin.end();
  await migrate(databaseUrl.toString(), pino({ level: 'silent' }), { queueSchema: true });
  if (found.redis && first) {
    const redis = new Redis(BASE_REDIS_URL);
    await redis.flushdb();
    redis.disconnect();
  }
  project.provide('testDatabaseUrl', databaseUrl.toString());
  project.provide('testQueueBackend', backend);
  project.provide('noRedisReason', found.redis ? null : `no Redis answers at ${BASE_REDIS_URL}`);
  return async () => {
    if (first) await found.stop?.();
  };
}
