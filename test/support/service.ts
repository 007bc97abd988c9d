import type { Logger } from '../../src/process/logger.js';
import { createDeps, type Deps } from '../../src/process/deps.js';
import { createApp, type App } from '../../src/http/app.js';
import { createTestDeps } from './deps.js';
import { testConfig } from './env.js';

/** The API side (deps and app) and the worker side (deps) of one test file, on one queue prefix. */
export type TestService = { api: Deps; workerDeps: Deps; app: App; close(): Promise<void> };

/**
 * Connects both sides against the test database and Redis. `close()` obliterates the file's
 * queues and closes every connection; workers, if started, must be closed first.
 */
export async function createTestService(opts: { workerLogger?: Logger; apiLogger?: Logger } = {}): Promise<TestService> {
  const config = testConfig();
  const api = opts.apiLogger ? await createDeps(config, 'api', opts.apiLogger) : await createTestDeps('api', config);
  const workerDeps = opts.workerLogger ? await createDeps(config, 'worker', opts.workerLogger) : await createTestDeps('worker', config);
  return {
    api,
    workerDeps,
    app: createApp(api),
    close: async () => {
      await Promise.all([api.queues.commands.obliterate({ force: true }), api.queues.imports.obliterate({ force: true })]);
      await Promise.all([api.close(), workerDeps.close()]);
    },
  };
}
