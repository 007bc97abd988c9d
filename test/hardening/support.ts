import { createApp, type App } from '../../src/http/app.js';
import type { JobView } from '../../src/jobs/job-view.js';
import { startRelay } from '../../src/jobs/relay.js';
import type { Deps } from '../../src/process/deps.js';
import { createImportWorker } from '../../workers/imports.worker.js';
import { createTestDeps, truncateAll } from '../support/deps.js';
import { ADMIN, testConfig } from '../support/env.js';
import { jobFinished, waitForJob } from '../support/jobs.js';

/** Helpers of the hardening tests (not a test file): an API and an import worker on one queue prefix. */

export type ImportRig = { api: Deps; app: App; sql<T = any>(q: string, params?: unknown[]): Promise<T[]>; close(): Promise<void> };

/** The API side, an import worker with small batches (many checkpoints in small files) and the relay. */
export async function startImportRig(batchRows = 50): Promise<ImportRig> {
  const config = testConfig();
  const api = await createTestDeps('api', config);
  const workerDeps = await createTestDeps('worker', config);
  await truncateAll(api);
  const worker = createImportWorker(workerDeps, { batchRows });
  const relay = startRelay(workerDeps);
  return {
    api,
    app: createApp(api),
    sql: (q, params = []) => api.orm.em.getConnection().execute(q, params),
    close: async () => {
      await Promise.all([worker.close(), relay.close()]);
      await api.queues.imports.obliterate({ force: true });
      await Promise.all([api.close(), workerDeps.close()]);
    },
  };
}

/** Uploads a CSV (a raw text/csv body) and returns the 202's job id. */
export async function upload(app: App, csv: string | Buffer, query = ''): Promise<string> {
  const res = await app.request(`/api/v1/admin/imports${query ? `?${query}` : ''}`, {
    method: 'POST',
    headers: { ...ADMIN, 'Content-Type': 'text/csv' },
    body: typeof csv === 'string' ? csv : new Uint8Array(csv),
  });
  const body = (await res.json()) as { job_id: string };
  if (res.status !== 202) throw new Error(`upload answered ${res.status}: ${JSON.stringify(body)}`);
  return body.job_id;
}

/** Every row error of a job, through GET /jobs/{id}/errors. */
export async function rowErrors(app: App, id: string): Promise<Array<{ line: number | null; column: string | null; code: string; message: string; value: string | null }>> {
  const items = [];
  for (let cursor = ''; ; ) {
    const page = (await (await app.request(`/api/v1/jobs/${id}/errors?limit=1000${cursor && `&cursor=${cursor}`}`, { headers: ADMIN })).json()) as any;
    items.push(...page.items);
    if (!page.next_cursor) return items;
    cursor = page.next_cursor;
  }
}

/** Upload, then the finished job: its view. */
export const importCsv = async (app: App, csv: string | Buffer, query = '') =>
  (await waitForJob(app, await upload(app, csv, query), jobFinished, { timeoutMs: 60_000 })) as JobView & Record<string, any>;

/** `n` clean rows after the header `name,email,course_name`, numbered from `from`. */
export function rows(n: number, from = 0): string[] {
  return Array.from({ length: n }, (_, i) => `Student ${from + i},student${from + i}@example.edu,Course ${(from + i) % 7}`);
}
