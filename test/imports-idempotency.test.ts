import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { App } from '../src/http/app.js';
import type { Deps } from '../src/process/deps.js';
import { truncateAll } from './support/deps.js';
import { ADMIN } from './support/env.js';
import { cleanCsv, createImportService, uploadCsv, waitForNoActiveJobs } from './support/imports.js';
import { waitForJob } from './support/jobs.js';
import type { TestService } from './support/service.js';
import { waitFor } from './support/wait.js';

/** CONTRACT §4: an `Idempotency-Key` on an upload (same key and file: the first answer; another request: 422; a repeat while the first streams: 409). */

let service: TestService;
let api: Deps;
let app: App;
beforeAll(async () => {
  service = await createImportService();
  ({ api, app } = service);
});
afterAll(() => service.close());
beforeEach(async () => {
  await waitForNoActiveJobs(api);
  await truncateAll(api);
});
const sql = <T = any>(q: string, params: unknown[] = []) => api.orm.em.getConnection().execute<T[]>(q, params);

describe('Idempotency-Key on uploads', () => {
  const key = { 'Idempotency-Key': 'roster-2026-11' };

  it('same key and file: the first answer again and no new job; another file or mode: 422', async () => {
    const csv = cleanCsv(10);
    const first = await uploadCsv(app, csv, { headers: key });
    expect(first.status).toBe(202);
    const again = await uploadCsv(app, csv, { headers: key });
    expect(again).toEqual(first);
    const form = new FormData();
    form.append('file', new Blob([csv]), 'same.csv');
    const asMultipart = await app.request('/api/v1/admin/imports', { method: 'POST', headers: { ...ADMIN, ...key }, body: form });
    expect(await asMultipart.json()).toEqual(first.body);
    expect((await uploadCsv(app, cleanCsv(11), { headers: key })).status).toBe(422);
    expect((await uploadCsv(app, csv, { headers: key, query: 'mode=add' })).status).toBe(422);
    expect(await sql(`select count(*)::int as n from jobs`)).toEqual([{ n: 1 }]);
    expect(await sql(`select count(*)::int as n from uploads`)).toEqual([{ n: 1 }]);
  });

  /** An upload whose header arrives at once and whose one row waits for `release()`. */
  const slowUpload = (headers: Record<string, string> = {}) => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(new TextEncoder().encode('email,course_name,name\n'));
        await gate;
        controller.enqueue(new TextEncoder().encode('slow@example.edu,Math,Slow\n'));
        controller.close();
      },
    });
    const first = app.request('/api/v1/admin/imports', {
      method: 'POST',
      headers: { ...ADMIN, 'Content-Type': 'text/csv', ...headers },
      body: slow,
      duplex: 'half',
    } as RequestInit);
    return { first, release };
  };

  it('a repeat while the first upload still streams gets 409; the first then succeeds', async () => {
    const { first, release } = slowUpload(key);
    await waitFor('the first upload to hold its key', async () => (await sql(`select count(*)::int as n from idempotency_keys`))[0].n === 1, { timeoutMs: 10_000, everyMs: 20 });
    const repeat = await uploadCsv(app, 'email,course_name,name\nslow@example.edu,Math,Slow\n', { headers: key });
    expect(repeat.status).toBe(409);
    release();
    const res = await first;
    expect(res.status).toBe(202);
    const job = await waitForJob(app, ((await res.json()) as any).job_id);
    expect(job.counts.students_created).toBe(1);
  });

  it('an upload purged mid-stream as abandoned is never answered 202', async () => {
    const { first, release } = slowUpload();
    await waitFor('the first upload to be receiving', async () => (await sql(`select count(*)::int as n from uploads`))[0].n === 1, { timeoutMs: 10_000, everyMs: 20 });
    // As if it had gone quiet for long: the next upload purges it.
    await sql(`update uploads set touched_at = now() - interval '1 hour'`);
    expect((await uploadCsv(app, cleanCsv(2))).status).toBe(202);
    release();
    const res = await first;
    expect(res.status).toBeGreaterThanOrEqual(500);
    expect(await sql(`select count(*)::int as n from jobs`)).toEqual([{ n: 1 }]);
  });

  it('a pending key abandoned long ago (API died mid-upload) does not block forever', async () => {
    await sql(`insert into idempotency_keys (key, fingerprint, touched_at) values (?, 'pending:dead', now() - interval '10 minutes')`, [key['Idempotency-Key']]);
    await sql(`insert into uploads (id, touched_at) values (gen_random_uuid(), now() - interval '1 hour')`);
    const res = await uploadCsv(app, cleanCsv(3), { headers: key });
    expect(res.status).toBe(202);
    expect(await sql(`select count(*)::int as n from uploads where status = 'receiving'`)).toEqual([{ n: 0 }]);
  });
});
