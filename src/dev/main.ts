import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { closeWorkers, startWorkers } from '../../workers/index.js';
import { migrate } from '../db/migrate.js';
import { DEV_TOKENS, loadConfigOrExit, productionEnv } from '../process/config.js';
import { createDeps } from '../process/deps.js';
import { onShutdown } from '../process/lifecycle.js';
import { createLogger } from '../process/logger.js';
import { startApi } from '../process/server.js';
import { lockDataDir } from './dev-lock.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres.js';

/**
 * `npm run dev` (CONTRACT §8): the whole service in one process on a machine with only Node.js:
 * an embedded PostgreSQL with its data in DEV_DATA_DIR (./.data, kept across runs), BullMQ on
 * PostgreSQL, the migrations, the API and the workers. Ctrl-C stops the API and the workers, then
 * the database, and exits 0. Never in production.
 */
const fail = (message: string): never => {
  process.stderr.write(`npm run dev: ${message}\n`);
  process.exit(1);
};
if (productionEnv()) fail('refused with NODE_ENV=production: it runs an embedded development database; use `npm start` against your PostgreSQL');
const config = loadConfigOrExit();

const dataDir = path.resolve(config.devDataDir);
await mkdir(dataDir, { recursive: true });
const release = await lockDataDir(path.join(dataDir, 'dev.pid'), dataDir).catch((err: Error) => fail(err.message));
let db: EmbeddedPostgres;
try {
  db = await startEmbeddedPostgres({ pgdata: path.join(dataDir, 'postgres'), port: config.devPostgresPort, logFile: path.join(dataDir, 'postgres.log') });
} catch (err) {
  await release();
  fail((err as Error).message);
}
const dev = { ...config, databaseUrl: db!.url('enrollments'), queueBackend: 'postgres' as const };
const logger = createLogger(dev, 'enrollment-service');

/** Stops what was started, last the database (the workers and API need it while they stop). */
const stopDatabase = async () => {
  await db.stop();
  await release();
};
try {
  await migrate(dev.databaseUrl, logger, { queueSchema: true });
} catch (err) {
  logger.fatal({ err }, 'migration failed');
  await stopDatabase();
  process.exit(1);
}
const apiDeps = await createDeps(dev, 'api', logger);
const workerDeps = await createDeps(dev, 'worker', logger);
const workers = await startWorkers(workerDeps);
const api = await startApi(apiDeps);
onShutdown(logger, async () => {
  await Promise.all([api.close(), closeWorkers(workers)]);
  await Promise.all([apiDeps.close(), workerDeps.close()]);
  await stopDatabase();
});

const tokens = config.devTokens
  ? `admin token ${DEV_TOKENS.admin}, read token ${DEV_TOKENS.read} (development tokens, accepted from this machine only)`
  : 'the ADMIN_TOKEN and READ_TOKEN you set';
process.stdout.write(
  [
    '',
    `  Enrollment service (development) listening on http://localhost:${config.port}`,
    `    admin page  http://localhost:${config.port}/   API docs  http://localhost:${config.port}/docs`,
    `    tokens      ${tokens}`,
    `    data        ${dataDir} (PostgreSQL ${db!.version} on 127.0.0.1:${db!.port}, database enrollments; kept across restarts)`,
    '    queues      BullMQ on PostgreSQL (schema bullmq), no Redis',
    '    Ctrl-C stops the service and the database.',
    '',
    '',
  ].join('\n'),
);
