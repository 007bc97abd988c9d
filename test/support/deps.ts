import type { Config } from '../../src/process/config.js';
import { createDeps, type Deps } from '../../src/process/deps.js';
import { testConfig } from './env.js';

/** Deps against the test database and Redis. */
export async function createTestDeps(role: 'api' | 'worker' = 'api', config: Config = testConfig()): Promise<Deps> {
  return createDeps(config, role);
}

/** Empties every table the service writes (and any legacy fixture tables), keeping the schema. */
export async function truncateAll(deps: Pick<Deps, 'orm'>): Promise<void> {
  const conn = deps.orm.em.getConnection();
  const rows: Array<{ tablename: string }> = await conn.execute(
    `select tablename from pg_tables where schemaname = 'public' and tablename <> 'mikro_orm_migrations'`,
  );
  if (rows.length === 0) return;
  await conn.execute(`truncate ${rows.map((r) => `"${r.tablename}"`).join(', ')} restart identity cascade`);
}
