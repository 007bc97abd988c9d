import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Deps } from '../src/process/deps.js';
import { createApp, type App } from '../src/http/app.js';
import { resolveHeader } from '../src/imports/import-rows.js';
import { createImportWorker } from '../workers/imports.worker.js';
import { inTransaction } from '../src/db/transaction.js';
import { markUploadStored } from '../src/imports/upload.repository.js';
import { storeUpload } from '../src/imports/upload.service.js';
import { insertJob } from '../src/jobs/job.repository.js';
import { startRelay } from '../src/jobs/relay.js';
import type { RunningWorker } from '../workers/running-worker.js';
import { createTestDeps, truncateAll } from './support/deps.js';
import { ADMIN, testConfig } from './support/env.js';
import { cleanCsv, jobErrors, uploadCsv } from './support/imports.js';
import { jobFinished, waitForJob } from './support/jobs.js';
import { rosterSnapshot } from './support/roster.js';
import { waitFor } from './support/wait.js';

let api: Deps;
let workerDeps: Deps;
let worker: RunningWorker;
let app: App;
let relay: { close(): Promise<void> };

beforeAll(async () => {
  const config = testConfig();
  api = await createTestDeps('api', config);
  workerDeps = await createTestDeps('worker', config);
  // Small batches: many checkpoints even in small files, and time to cancel mid-import.
  worker = createImportWorker(workerDeps, { batchRows: 40 });
  relay = startRelay(workerDeps);
  app = createApp(api);
});
afterAll(async () => {
  await Promise.all([worker.close(), relay.close()]);
  await api.queues.imports.obliterate({ force: true });
  await Promise.all([api.close(), workerDeps.close()]);
});
const sql = <T = any>(q: string, params: unknown[] = []) => api.orm.em.getConnection().execute<T[]>(q, params);

// An import a test left running would deadlock with the truncation: let it finish first.
beforeEach(async () => {
  await waitFor('every job to finish', async () => (await sql(`select count(*)::int as n from jobs where status in ('queued', 'running')`))[0].n === 0, { everyMs: 20 });
  await truncateAll(api);
});

/** Uploads a CSV and waits for its import to finish. */
async function importCsv(csv: string | Buffer, query?: string) {
  const res = await uploadCsv(app, csv, { query });
  expect(res.status).toBe(202);
  expect(res.body).toEqual({ job_id: expect.any(String), status_url: `/api/v1/jobs/${res.body.job_id}` });
  return waitForJob(app, res.body.job_id);
}

// Line numbers are the file's (header = line 1); line 4 spans lines 4-5; lines 6 and 7 are blank.
const DIRTY =
  '\ufeff Name ,EMAIL,Course_Name,team_id,Notes,Action,status\r\n' + // 1
  'Ana Smith,ana@example.edu,Math 101,,x,,\r\n' + // 2: new student, new course
  '"Lee, Bo ""Jr""",bo@example.edu,Math 101,7,,add,\r\n' + // 3: comma and quotes in a field
  '"Multi\r\nLine Name",ml@example.edu,Physics 201,,,,\r\n' + // 4-5: a name over two lines
  '\r\n' + // 6
  '   \r\n' + // 7
  'Ana Smith,ANA@Example.EDU,physics 201,,,,\r\n' + // 8: same student and course in other letter cases: set moves her
  'Zoë Ünicode,zoe@example.edu,Art 1,,,,\r\n' + // 9
  'bad,not-an-email,Art 1,,,,\r\n' + // 10: invalid_email
  ',nobody@example.edu,Art 1,,,,\r\n' + // 11: name_required (a new student)
  'too,few,fields\r\n' + // 12: field_count
  'x,ana@example.edu,Art 1,,,bogus,\r\n' + // 13: invalid_action
  ',ana@example.edu,Physics 201,,,,Inactive\r\n' + // 14: status inactive = deactivate
  ',bo@example.edu,,,,,\r\n' + // 15: course_name required
  ',BO@example.edu,math 101,,,,\r\n'; // 16: nothing to change

const DIRTY_COUNTS = {
  rows: 12,
  valid: 7,
  invalid: 5,
  students_created: 4,
  students_updated: 0,
  enrollments_created: 5,
  enrollments_activated: 0,
  enrollments_deactivated: 2,
  unchanged: 1,
};

describe('CSV import format (CONTRACT §3)', () => {
  it('reads a dirty export: BOM, CRLF, quotes, multi-line fields, unicode, blank lines, case variants, bad rows', async () => {
    const job = await importCsv(DIRTY);
    expect(job).toMatchObject({ type: 'import', status: 'completed_with_errors', counts: DIRTY_COUNTS, error: null });
    expect(job.progress).toEqual({ processed: 12, total: 12, percent: 100 });
    expect(job.warnings).toEqual(['legacy column "team_id" is ignored (teams were removed)', 'unknown column "Notes" is ignored']);
    expect(await jobErrors(app, job.id)).toEqual([
      { line: 10, column: 'email', code: 'invalid_email', message: expect.any(String), value: 'not-an-email' },
      { line: 11, column: 'name', code: 'name_required', message: expect.any(String), value: null },
      { line: 12, column: null, code: 'field_count', message: 'expected 7 fields, got 3', value: 'too,few,fields' },
      { line: 13, column: 'action', code: 'invalid_action', message: expect.any(String), value: 'bogus' },
      { line: 15, column: 'course_name', code: 'required', message: expect.any(String), value: '' },
    ]);
    expect(await rosterSnapshot(api)).toEqual({
      students: [
        { name: 'Ana Smith', email: 'ana@example.edu' },
        { name: 'Lee, Bo "Jr"', email: 'bo@example.edu' },
        { name: 'Multi\r\nLine Name', email: 'ml@example.edu' },
        { name: 'Zoë Ünicode', email: 'zoe@example.edu' },
      ],
      courses: [{ name: 'Art 1' }, { name: 'Math 101' }, { name: 'Physics 201' }],
      enrollments: [
        { email: 'ana@example.edu', course: 'math 101', active: false },
        { email: 'ana@example.edu', course: 'physics 201', active: false },
        { email: 'bo@example.edu', course: 'math 101', active: true },
        { email: 'ml@example.edu', course: 'physics 201', active: true },
        { email: 'zoe@example.edu', course: 'art 1', active: true },
      ],
    });
  });

  it('stores backslashes, tabs and a literal \\N exactly as the file has them', async () => {
    const job = await importCsv('name,email,course_name\n"Back\\slash\tTab",b\\s@x.io,C:\\Courses\n\\N,n@x.io,\\N\n');
    expect(job.counts).toMatchObject({ valid: 2, students_created: 2, enrollments_created: 2 });
    expect(await rosterSnapshot(api)).toEqual({
      students: [
        { name: 'Back\\slash\tTab', email: 'b\\s@x.io' },
        { name: '\\N', email: 'n@x.io' },
      ],
      courses: [{ name: '\\N' }, { name: 'C:\\Courses' }],
      enrollments: [
        { email: 'b\\s@x.io', course: 'c:\\courses', active: true },
        { email: 'n@x.io', course: '\\n', active: true },
      ],
    });
  });

  it('creates new courses and enrollments in file order (the first enrollment is the first row)', async () => {
    await importCsv('name,email,course_name\nAnn,a@x.io,Zoology\nAnn,a@x.io,Art\nBob,b@x.io,Music\n', 'mode=add');
    expect((await sql(`select name from courses order by id`)).map((r) => r.name)).toEqual(['Zoology', 'Art', 'Music']);
    const ann = await sql(
      `select c.name from course_enrollments e join courses c on c.id = e.course_id join students s on s.id = e.student_id
        where s.email = 'a@x.io' order by e.created_at, e.id`,
    );
    expect(ann.map((r) => r.name)).toEqual(['Zoology', 'Art']);
  });

  it('warns once for all the legacy team columns together and once per other unknown column', async () => {
    const header = resolveHeader({ line: 1, fields: ['email', ' Team_ID', 'Notes', 'course_name', 'team_name', 'TEAM_NUMBER', 'extra'] });
    expect(header.warnings).toEqual([
      'legacy columns "Team_ID", "team_name", "TEAM_NUMBER" are ignored (teams were removed)',
      'unknown column "Notes" is ignored',
      'unknown column "extra" is ignored',
    ]);
    expect(resolveHeader({ line: 1, fields: ['email', 'course_name'] }).warnings).toEqual([]);
    expect(resolveHeader({ line: 1, fields: ['x', 'team_number', 'email', 'course_name'] }).warnings).toEqual([
      'unknown column "x" is ignored',
      'legacy column "team_number" is ignored (teams were removed)',
    ]);
  });

  it('the same file again changes nothing and counts every valid row unchanged', async () => {
    await importCsv(DIRTY);
    const before = await rosterSnapshot(api);
    const again = await importCsv(DIRTY);
    // Row 8 moves Ana to Physics and row 14 deactivates it again: replayed, both still act.
    expect(again.counts).toMatchObject({ rows: 12, valid: 7, invalid: 5, students_created: 0, enrollments_created: 0 });
    expect(await rosterSnapshot(api)).toEqual(before);
    const clean = cleanCsv(50);
    await importCsv(clean);
    const cleanAgain = await importCsv(clean);
    expect(cleanAgain.counts).toMatchObject({ rows: 50, valid: 50, unchanged: 50, students_created: 0, enrollments_created: 0 });
  });

  it('mode=add keeps other enrollments; the action column overrides the mode per row', async () => {
    await importCsv('email,course_name,name\na@example.edu,Math,A\n');
    const added = await importCsv('email,course_name\na@example.edu,Art\n', 'mode=add');
    expect(added.counts).toMatchObject({ enrollments_created: 1, enrollments_deactivated: 0 });
    expect(added.options).toEqual({ mode: 'add', dry_run: false });
    const set = await importCsv('email,course_name,action\na@example.edu,Bio,SET\n', 'mode=add');
    expect(set.counts).toMatchObject({ enrollments_created: 1, enrollments_deactivated: 2 });
    expect((await rosterSnapshot(api)).enrollments.filter((e: any) => e.active)).toEqual([{ email: 'a@example.edu', course: 'bio', active: true }]);
  });

  it.each([
    ['an empty file', '', 'empty_file'],
    ['only blank lines', '\r\n\r\n  \n', 'empty_file'],
    ['a binary file', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]), 'not_csv'],
    ['a JSON file', '{"email": "a@example.edu", "course_name": "Math"}\n', 'missing_columns'],
    ['a header without course_name', 'name,email\nA,a@example.edu\n', 'missing_columns'],
    ['a header naming a column twice', 'email,course_name,EMAIL\na@example.edu,Math,b@example.edu\n', 'duplicate_column'],
    ['a quote never closed (near the end)', `${cleanCsv(200).trimEnd()}\n"Broken,b@example.edu,Math\nC,c@example.edu,Math\n`, 'csv_syntax'],
  ])('%s fails as a whole with a clear error and applies nothing', async (_label, body, code) => {
    const job = await importCsv(body);
    expect(job.status).toBe('failed');
    expect(job.error).toEqual({ code, message: expect.any(String) });
    expect(job.counts.rows).toBe(0);
    expect(await rosterSnapshot(api)).toEqual({ students: [], courses: [], enrollments: [] });
  });
});

describe('dry run', () => {
  it('reports exactly what the import then reports, and changes nothing', async () => {
    await importCsv('name,email,course_name\nOld,ana@example.edu,Old Course\nZed,zed@example.edu,Math 101\n');
    const before = await rosterSnapshot(api);
    const dry = await importCsv(DIRTY, 'dry_run=true');
    expect(await rosterSnapshot(api)).toEqual(before);
    const dryErrors = await jobErrors(app, dry.id);
    const real = await importCsv(DIRTY);
    expect(dry.status).toBe(real.status);
    expect(dry.counts).toEqual(real.counts);
    expect([dry.options, real.options]).toEqual([{ mode: 'set', dry_run: true }, { mode: 'set', dry_run: false }]);
    expect(dryErrors).toEqual(await jobErrors(app, real.id));
    expect(real.counts.students_updated).toBe(1); // "Old" is renamed Ana Smith
    expect(real.counts.enrollments_deactivated).toBe(3); // Ana's Old Course too
    const dryAgain = await importCsv(DIRTY, 'dry_run=true');
    const realAgain = await importCsv(DIRTY);
    expect(dryAgain.counts).toEqual(realAgain.counts);
  });
});

describe('upload (CONTRACT §4 POST /admin/imports)', () => {
  it('stores the file with its size and SHA-256, and frees the chunks once imported', async () => {
    const csv = cleanCsv(30);
    const job = await importCsv(csv);
    const [upload] = await sql(`select size_bytes, sha256, status from uploads where job_id = ?`, [job.id]);
    expect(upload).toEqual({ size_bytes: String(Buffer.byteLength(csv)), sha256: createHash('sha256').update(csv).digest('hex'), status: 'stored' });
    expect(await sql(`select count(*)::int as n from upload_chunks`)).toEqual([{ n: 0 }]);
  });

  it('takes the file as the multipart field "file"', async () => {
    const form = new FormData();
    form.append('note', 'ignored');
    form.append('file', new Blob([DIRTY], { type: 'text/csv' }), 'roster.csv');
    const res = await app.request('/api/v1/admin/imports', { method: 'POST', headers: ADMIN, body: form });
    expect(res.status).toBe(202);
    const job = await waitForJob(app, ((await res.json()) as any).job_id);
    expect(job.counts).toEqual(DIRTY_COUNTS);
    const [upload] = await sql(`select size_bytes from uploads where job_id = ?`, [job.id]);
    expect(Number(upload.size_bytes)).toBe(Buffer.byteLength(DIRTY));
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

describe('progress and cancel', () => {
  it('shows progress while running and stops at the next batch on cancel, keeping and counting what it applied', async () => {
    const res = await uploadCsv(app, cleanCsv(6_000));
    const id = res.body.job_id;
    const running = await waitForJob(app, id, (j) => j.progress.processed > 0 || jobFinished(j));
    expect(running.status).toBe('running');
    expect(running.progress.total).toBe(6_000);
    const cancel = await app.request(`/api/v1/jobs/${id}/cancel`, { method: 'POST', headers: ADMIN });
    expect(cancel.status).toBe(202);
    const job = await waitForJob(app, id);
    expect(job.status).toBe('cancelled');
    expect(job.progress.processed).toBeLessThan(6_000);
    expect(job.counts.rows).toBe(job.progress.processed);
    const [{ n }] = await sql(`select count(*)::int as n from students`);
    expect(n).toBe(job.counts.students_created);
    expect(n).toBe(job.progress.processed); // every row of this file creates a student
  });

  it('applies imports one at a time in the order they were accepted', async () => {
    const a = await uploadCsv(app, cleanCsv(400, { course: () => 'First' }));
    const b = await uploadCsv(app, cleanCsv(400, { course: () => 'Second' }));
    const jobA = await waitForJob(app, a.body.job_id);
    const jobB = await waitForJob(app, b.body.job_id);
    expect(new Date(jobA.finished_at!).getTime()).toBeLessThanOrEqual(new Date(jobB.started_at!).getTime());
    const active = await sql(`select c.name, count(*)::int as n from course_enrollments e join courses c on c.id = e.course_id where e.active group by 1`);
    expect(active).toEqual([{ name: 'Second', n: 400 }]);
  });
});
