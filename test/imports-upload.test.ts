import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Deps } from '../src/process/deps.js';
import { inTransaction } from '../src/db/transaction.js';
import { createApp, type App } from '../src/http/app.js';
import { markUploadStored } from '../src/imports/upload.repository.js';
import { storeUpload } from '../src/imports/upload.service.js';
import { insertJob } from '../src/jobs/job.repository.js';
import { createTestDeps, truncateAll } from './support/deps.js';
import { ADMIN, testConfig } from './support/env.js';
import { cleanCsv, createImportService, DIRTY_ROSTER, DIRTY_ROSTER_COUNTS, importCsv, uploadCsv, waitForNoActiveJobs } from './support/imports.js';
import { waitForJob } from './support/jobs.js';
import type { TestService } from './support/service.js';

/** CONTRACT §4 `POST /admin/imports`: the file as the body or a multipart field, stored durably before the 202; 413 over MAX_UPLOAD_BYTES. */

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

describe('upload (CONTRACT §4 POST /admin/imports)', () => {
  it('stores the file with its size and SHA-256, and frees the chunks once imported', async () => {
    const csv = cleanCsv(30);
    const job = await importCsv(app, csv);
    const [upload] = await sql(`select size_bytes, sha256, status from uploads where job_id = ?`, [job.id]);
    expect(upload).toEqual({ size_bytes: String(Buffer.byteLength(csv)), sha256: createHash('sha256').update(csv).digest('hex'), status: 'stored' });
    expect(await sql(`select count(*)::int as n from upload_chunks`)).toEqual([{ n: 0 }]);
  });

  it('takes the file as the multipart field "file"', async () => {
    const form = new FormData();
    form.append('note', 'ignored');
    form.append('file', new Blob([DIRTY_ROSTER], { type: 'text/csv' }), 'roster.csv');
    const res = await app.request('/api/v1/admin/imports', { method: 'POST', headers: ADMIN, body: form });
    expect(res.status).toBe(202);
    const job = await waitForJob(app, ((await res.json()) as any).job_id);
    expect(job.counts).toEqual(DIRTY_ROSTER_COUNTS);
    const [upload] = await sql(`select size_bytes from uploads where job_id = ?`, [job.id]);
    expect(Number(upload.size_bytes)).toBe(Buffer.byteLength(DIRTY_ROSTER));
  });

  it('checks the CSV syntax and counts the rows while the file uploads: the total is known at the 202', async () => {
    const good = await uploadCsv(app, cleanCsv(30));
    const broken = await uploadCsv(app, `${cleanCsv(30)}"Broken,b@example.edu,Math\n`);
    const jobs = await sql(`select id, total, payload->'scan' as scan from jobs where id in (?, ?)`, [good.body.job_id, broken.body.job_id]);
    expect(jobs).toEqual(
      expect.arrayContaining([
        { id: good.body.job_id, total: '30', scan: { records: 31 } },
        { id: broken.body.job_id, total: null, scan: { error: { code: 'csv_syntax', message: expect.stringContaining('line 32') } } },
      ]),
    );
    expect((await waitForJob(app, broken.body.job_id)).error).toEqual({ code: 'csv_syntax', message: jobs.find((j) => j.total === null).scan.error.message });
    expect((await waitForJob(app, good.body.job_id)).status).toBe('completed');
  });

  it('checks the whole stored file itself for a job accepted without that scan (by an older API)', async () => {
    const acceptWithoutScan = async (csv: string) => {
      const file = await storeUpload(api.orm, randomUUID(), (async function* () { yield Buffer.from(csv); })(), 1 << 20);
      const id = randomUUID();
      const payload = { upload_id: file.uploadId, mode: 'set' as const, dry_run: false, size_bytes: file.sizeBytes, sha256: file.sha256 };
      await inTransaction(api.orm, async (client) => {
        await insertJob(client, { id, type: 'import', payload, total: null });
        await markUploadStored(client, { id: file.uploadId, jobId: id, sizeBytes: file.sizeBytes, sha256: file.sha256 });
      });
      return waitForJob(app, id);
    };
    const broken = await acceptWithoutScan(`${cleanCsv(30)}"Broken,b@example.edu,Math\n`);
    expect(broken).toMatchObject({ status: 'failed', error: { code: 'csv_syntax' }, counts: { rows: 0 } });
    const good = await acceptWithoutScan(cleanCsv(30));
    expect(good).toMatchObject({ status: 'completed', progress: { processed: 30, total: 30 }, counts: { rows: 30, students_created: 30 } });
  });

  it('refuses a multipart body without a "file" field, and bad options', async () => {
    const form = new FormData();
    form.append('other', new Blob(['email,course_name\n']), 'x.csv');
    const res = await app.request('/api/v1/admin/imports', { method: 'POST', headers: ADMIN, body: form });
    expect(res.status).toBe(400);
    expect((await uploadCsv(app, 'email,course_name\n', { query: 'mode=deactivate' })).status).toBe(400);
    expect((await uploadCsv(app, 'email,course_name\n', { query: 'dry_run=maybe' })).status).toBe(400);
    expect((await uploadCsv(app, '{}', { headers: { 'Content-Type': 'application/json' } })).status).toBe(400);
    expect(await sql(`select count(*)::int as n from uploads`)).toEqual([{ n: 0 }]);
  });

  it('takes option values case-insensitively after trimming; an empty one is refused, never taken for the default', async () => {
    const optionsOf = async (query: string) => {
      const res = await uploadCsv(app, 'email,course_name\na@x.edu,Art\n', { query });
      expect(res.status).toBe(202);
      return (await (await app.request(`/api/v1/jobs/${res.body.job_id}`, { headers: ADMIN })).json()).options;
    };
    expect(await optionsOf('mode=%20ADD%20&dry_run=True')).toEqual({ mode: 'add', dry_run: true });
    expect(await optionsOf('')).toEqual({ mode: 'set', dry_run: false });
    for (const query of ['mode=', 'mode=%20', 'dry_run=']) {
      expect((await uploadCsv(app, 'email,course_name\na@x.edu,Art\n', { query })).status, query).toBe(400);
    }
  });
});

describe('413 over MAX_UPLOAD_BYTES', () => {
  let small: Deps;
  let smallApp: App;
  beforeAll(async () => {
    small = await createTestDeps('api', testConfig({ MAX_UPLOAD_BYTES: '3000', QUEUE_PREFIX: api.config.queuePrefix }));
    smallApp = createApp(small);
  });
  afterAll(() => small.close());

  const streamed = (text: string) =>
    new ReadableStream<Uint8Array>({
      start(controller) {
        const bytes = new TextEncoder().encode(text);
        for (let i = 0; i < bytes.length; i += 500) controller.enqueue(bytes.subarray(i, i + 500));
        controller.close();
      },
    });

  it.each([
    ['a declared Content-Length', (csv: string) => ({ body: csv, headers: { 'Content-Length': String(Buffer.byteLength(csv)) } })],
    ['a streamed body (no length)', (csv: string) => ({ body: streamed(csv), headers: {} })],
    ['a multipart file', (csv: string) => {
      const form = new FormData();
      form.append('file', new Blob([csv]), 'big.csv');
      return { body: form, headers: {} };
    }],
  ])('%s over the limit gets 413 and leaves nothing behind (not even its Idempotency-Key)', async (_label, make) => {
    const csv = cleanCsv(200);
    const { body, headers } = make(csv);
    const isForm = body instanceof FormData;
    const res = await smallApp.request('/api/v1/admin/imports', {
      method: 'POST',
      headers: { ...ADMIN, ...(isForm ? {} : { 'Content-Type': 'text/csv' }), 'Idempotency-Key': 'big-one', ...headers },
      body,
      ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(((await res.json()) as any).error.code).toBe('too_large');
    expect(await sql(`select count(*)::int as n from uploads`)).toEqual([{ n: 0 }]);
    expect(await sql(`select count(*)::int as n from upload_chunks`)).toEqual([{ n: 0 }]);
    expect(await sql(`select count(*)::int as n from jobs`)).toEqual([{ n: 0 }]);
    expect(await sql(`select count(*)::int as n from idempotency_keys`)).toEqual([{ n: 0 }]);
    // The key is free again for a file that fits.
    const ok = await uploadCsv(smallApp, cleanCsv(5), { headers: { 'Idempotency-Key': 'big-one' } });
    expect(ok.status).toBe(202);
  });
});
