import { z } from 'zod';

/**
 * Tokens used outside production when neither ADMIN_TOKEN nor READ_TOKEN is set (documented in
 * the README). They are shorter than a set token may be, so no operator can set them by hand, and
 * the API accepts them from loopback peers only (middleware/auth).
 */
export const DEV_TOKENS = { admin: 'dev-admin-token', read: 'dev-read-token' } as const;

/** docker-compose.yml's fallback tokens (`change-me-…`) start so: refused in production. */
export const PLACEHOLDER_TOKEN_PREFIX = 'change-me';

const GiB = 1024 ** 3;

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).default('postgres://postgres@127.0.0.1:5432/enrollments'),
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).default('redis://127.0.0.1:6379'),
  /** Where BullMQ keeps its queues: Redis (REDIS_URL), or BullMQ's PostgreSQL backend in DATABASE_URL (CONTRACT §8). */
  QUEUE_BACKEND: z.enum(['redis', 'postgres'], { error: "must be 'redis' or 'postgres'" }).default('redis'),
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  READ_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  MAX_UPLOAD_BYTES: z.coerce.number().int().positive().default(GiB),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_FORMAT: z.enum(['json', 'pretty']).default('json'),
  /** Prefix of every BullMQ key, so several deployments (or test runs) can share one Redis. */
  QUEUE_PREFIX: z.string().regex(/^[\w-]+$/).default('enroll'),
  /** Finished job rows older than this many hours are removed from PostgreSQL. */
  JOB_RETENTION_HOURS: z.coerce.number().int().min(24).default(24 * 7),
  /** Where a worker writes its heartbeat for a container health check (src/process/readiness.ts); unset: none. */
  WORKER_HEARTBEAT_FILE: z.string().optional(),
  /** Connections a worker applies an import's parts on, side by side (docs/imports.md). */
  IMPORT_WRITERS: z.coerce.number().int().min(1).max(8).default(2),
  /** `npm run dev` only: where its embedded PostgreSQL keeps its data, and the loopback port it listens on. */
  DEV_DATA_DIR: z.string().default('.data'),
  DEV_POSTGRES_PORT: z.coerce.number().int().min(1).max(65535).default(54329),
  /** The API closes a connection that sends or takes no byte for this long (and headers must be in by then). */
  HTTP_IDLE_TIMEOUT_MS: z.coerce.number().int().min(100).default(60_000),
  /** Open connections the API accepts at once; more are closed as they arrive. */
  HTTP_MAX_CONNECTIONS: z.coerce.number().int().min(1).default(1_000),
});

export type Config = {
  nodeEnv: 'development' | 'test' | 'production';
  databaseUrl: string;
  redisUrl: string;
  /** `redis`: the queues on REDIS_URL; `postgres`: on BullMQ's PostgreSQL backend, no Redis at all. */
  queueBackend: 'redis' | 'postgres';
  port: number;
  adminToken: string;
  readToken: string;
  /** True when the tokens are the development defaults. */
  devTokens: boolean;
  maxUploadBytes: number;
  logLevel: string;
  logFormat: 'json' | 'pretty';
  queuePrefix: string;
  jobRetentionHours: number;
  workerHeartbeatFile: string | null;
  importWriters: number;
  httpIdleTimeoutMs: number;
  httpMaxConnections: number;
  /** `npm run dev` only (src/dev/main.ts). */
  devDataDir: string;
  devPostgresPort: number;
};

/** A configuration problem, naming the variable at fault. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Parses the environment once into a typed, validated config.
 * Throws a ConfigError whose message is one line naming each bad variable.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // Empty strings mean "unset", as in most shells and compose files.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid environment: ${problems.join('; ')}`);
  }
  const e = parsed.data;
  checkTokens(e);
  const adminToken = e.ADMIN_TOKEN ?? DEV_TOKENS.admin;
  const readToken = e.READ_TOKEN ?? DEV_TOKENS.read;
  return {
    nodeEnv: e.NODE_ENV,
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    queueBackend: e.QUEUE_BACKEND,
    port: e.PORT,
    adminToken,
    readToken,
    devTokens: !e.ADMIN_TOKEN || !e.READ_TOKEN,
    maxUploadBytes: e.MAX_UPLOAD_BYTES,
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT,
    queuePrefix: e.QUEUE_PREFIX,
    jobRetentionHours: e.JOB_RETENTION_HOURS,
    workerHeartbeatFile: e.WORKER_HEARTBEAT_FILE ?? null,
    importWriters: e.IMPORT_WRITERS,
    httpIdleTimeoutMs: e.HTTP_IDLE_TIMEOUT_MS,
    httpMaxConnections: e.HTTP_MAX_CONNECTIONS,
    devDataDir: e.DEV_DATA_DIR,
    devPostgresPort: e.DEV_POSTGRES_PORT,
  };
}

/**
 * Both tokens or neither (a lone ADMIN_TOKEN must not leave the development read token working);
 * both in production, and not docker-compose's placeholders there; never the same one twice.
 */
function checkTokens(e: z.infer<typeof envSchema>): void {
  const fail = (message: string) => {
    throw new ConfigError(`invalid environment: ${message}`);
  };
  const production = e.NODE_ENV === 'production';
  if (production && !e.ADMIN_TOKEN && !e.READ_TOKEN) fail('ADMIN_TOKEN and READ_TOKEN are required when NODE_ENV=production');
  if (!e.ADMIN_TOKEN !== !e.READ_TOKEN) {
    fail(`${e.ADMIN_TOKEN ? 'READ_TOKEN' : 'ADMIN_TOKEN'} is not set: set both ADMIN_TOKEN and READ_TOKEN, or neither (development tokens)`);
  }
  if (production) {
    for (const name of ['ADMIN_TOKEN', 'READ_TOKEN'] as const) {
      if (e[name]?.startsWith(PLACEHOLDER_TOKEN_PREFIX)) {
        fail(`${name} is docker-compose's placeholder: set ADMIN_TOKEN and READ_TOKEN to secrets of your own (e.g. openssl rand -hex 24)`);
      }
    }
  }
  if (e.ADMIN_TOKEN && e.ADMIN_TOKEN === e.READ_TOKEN) fail('ADMIN_TOKEN and READ_TOKEN must differ');
}

/** loadConfig for process entry points: a bad environment prints one line and exits 1. */
export function loadConfigOrExit(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}

/** Whether the environment says production, whatever else is wrong with it (`npm run dev` refuses to start there). */
export const productionEnv = (env: Record<string, string | undefined> = process.env): boolean => env.NODE_ENV === 'production';
