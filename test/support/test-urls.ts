/**
 * Where tests run unless told otherwise: a dedicated database and Redis index, never development
 * data. Override with TEST_DATABASE_URL / TEST_REDIS_URL (e.g. to run two suites side by side).
 * Read by the global setup (the main process) and by vitest.config.ts; test files read env.ts.
 */
// The password is docker-compose's (its PostgreSQL asks for one); a local server with trust auth ignores it.
export const BASE_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres:postgres@127.0.0.1:5432/enrollments_test';
export const BASE_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/15';

/** The database of a project of the run: the contract suites on the PostgreSQL backend get one of their own. */
export function databaseUrlFor(project: string): string {
  if (project !== 'postgres-queues') return BASE_DATABASE_URL;
  const url = new URL(BASE_DATABASE_URL);
  url.pathname = `${url.pathname}_pgq`;
  return url.toString();
}
