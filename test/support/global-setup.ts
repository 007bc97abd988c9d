import { execFileSync } from 'node:child_process';
import { Redis } from 'ioredis';
import pg from 'pg';
import { pino } from 'pino';
import { migrate } from '../../src/db/migrate.js';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from './env.js';
import { waitFor } from './wait.js';

const adminUrl = () => {
  const u = new URL(TEST_DATABASE_URL);
  u.pathname = '/postgres';
  return u.toString();
};

async function postgresAnswers(): Promise<boolean> {
  const client = new pg.Client({ connectionString: adminUrl(), connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

async function redisAnswers(): Promise<boolean> {
  const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
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

/** Waits for PostgreSQL and Redis; starts them with docker compose when they are down and Docker runs. */
async function ensureServices(): Promise<void> {
  const bothAnswer = async () => (await postgresAnswers()) && (await redisAnswers());
  if (await bothAnswer()) return;
  if (dockerAvailable()) {
    execFileSync('docker', ['compose', 'up', '-d', '--wait', 'postgres', 'redis'], { stdio: 'inherit' });
    const up = await waitFor('PostgreSQL and Redis to answer', bothAnswer, { timeoutMs: 60_000, everyMs: 500 }).then(() => true, () => false);
    if (up) return;
  }
  throw new Error(
    `tests need PostgreSQL at DATABASE_URL=${TEST_DATABASE_URL} and Redis at REDIS_URL=${TEST_REDIS_URL}: ` +
      'start them (`docker compose up -d postgres redis`, or on Debian `pg_ctlcluster <version> main start` ' +
      'and `redis-server --daemonize yes`), or point TEST_DATABASE_URL / TEST_REDIS_URL elsewhere',
  );
}

/** Once per run: a fresh test database with every migration, and an empty test Redis index. */
export default async function setup(): Promise<void> {
  await ensureServices();
  const dbName = decodeURIComponent(new URL(TEST_DATABASE_URL).pathname.slice(1));
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  await admin.query(`drop database if exists ${pg.escapeIdentifier(dbName)} with (force)`);
  await admin.end();
  await migrate(TEST_DATABASE_URL, pino({ level: 'silent' }));
  const redis = new Redis(TEST_REDIS_URL);
  await redis.flushdb();
  redis.disconnect();
}
