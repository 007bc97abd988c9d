import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/http/app.js';
import { knexOf } from '../../src/db/orm.js';
import type { Deps } from '../../src/process/deps.js';
import { studentExportStream } from '../../src/students/student-export.js';
import { pullStream, STALL_MS } from '../../src/downloads/pull-stream.js';
import { createTestDeps, truncateAll } from '../support/deps.js';
import { ADMIN, READER } from '../support/env.js';
import { send } from '../support/jobs.js';
import { waitFor } from '../support/wait.js';

/** Issue 15 item 8 (the parts outside the queue backend): each smaller finding, with its test. */

let deps: Deps;
let app: App;
beforeAll(async () => {
  deps = await createTestDeps();
  app = createApp(deps);
});
beforeEach(() => truncateAll(deps));
afterAll(async () => {
  await truncateAll(deps);
  await deps.close();
});
const sql = (q: string, params: unknown[] = []) => deps.orm.em.getConnection().execute(q, params);
/** The pace of a slow reader (what the export test is about), never a wait for the service. */
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('CSV downloads: the formula guard holds for ;-separated spreadsheets', () => {
  it('a cell holding ; is quoted, so that no spreadsheet splitting on , or ; starts a cell with =', async () => {
    await sql(`insert into students (name, email) values ('Bob;=1+1', 'bob@example.edu'), ('Ann;@SUM(1)', 'ann;-2@example.edu')`);
    const text = await (await app.request('/api/v1/admin/students/export.csv', { headers: READER })).text();
    expect(text).toContain(',"Bob;=1+1",');
    expect(text).toContain(',"Ann;@SUM(1)","ann;-2@example.edu",');
    // As LibreOffice reads a file with both separators ticked: quoted fields stay whole.
    const cells = (parse(text, { delimiter: [',', ';'], relax_column_count: true }) as string[][]).flat();
    expect(cells.filter((c) => /^[=+\-@]/.test(c))).toEqual([]);
  });
});

describe('the queue board cannot be framed (clickjacking)', () => {
  it.each([
    ['the page', '/admin/queues', { Authorization: ADMIN.Authorization }, 200],
    ['its JSON API', '/admin/queues/api/queues', { Authorization: ADMIN.Authorization }, 200],
    ['a 401', '/admin/queues', {}, 401],
    ['a 403', '/admin/queues', { Authorization: READER.Authorization }, 403],
  ])('%s answers with X-Frame-Options: DENY and frame-ancestors none', async (_label, path, headers, status) => {
    const res = await app.request(path, { headers });
    expect(res.status).toBe(status);
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('content-security-policy')).toMatch(/frame-ancestors 'none'/);
    await res.body?.cancel();
  });
});

describe('an export is bounded as a whole, not only per write', () => {
  const inUse = () => (knexOf(deps.orm).client as { pool: { numUsed(): number } }).pool.numUsed();

  it('a reader that keeps taking a little (never stalling) is cut once the download is older than its bound', async () => {
    await sql(`insert into students (name, email) select 'student-' || n, 's' || n || '@example.org' from generate_series(1, 100000) n`);
    let ended = false;
    const started = Date.now();
    const stream = studentExportStream(deps.orm, deps.logger, STALL_MS, () => (ended = true), 800);
    const reader = stream.getReader();
    // One 5,000-row chunk every 150 ms: 20 chunks would take 3 s.
    const reading = (async () => {
      for (let r = await reader.read(); !r.done; r = await reader.read()) await sleep(150);
    })();
    await expect(reading).rejects.toThrow(/longer than 800 ms/);
    expect(Date.now() - started).toBeLessThan(2_500);
    await waitFor(() => `the export to end and give its client back (ended: ${ended}, in use: ${inUse()})`, () => ended && inUse() === 0, { timeoutMs: 5_000, everyMs: 20 });
    expect({ ended, inUse: inUse() }).toEqual({ ended: true, inUse: 0 });
  });
});

describe('a download nobody reads (the answer to a HEAD) holds nothing (found by the fuzzing)', () => {
  const inUse = () => (knexOf(deps.orm).client as { pool: { numUsed(): number } }).pool.numUsed();

  it('HEAD of the export opens no database snapshot and holds no pooled connection', async () => {
    await sql(`insert into students (name, email) select 'student-' || n, 's' || n || '@example.org' from generate_series(1, 20000) n`);
    for (let i = 0; i < 3; i++) {
      const res = await app.request('/api/v1/admin/students/export.csv', { method: 'HEAD', headers: READER });
      expect(res.status).toBe(200);
    }
    await sleep(100);
    expect(inUse()).toBe(0);
    expect(await sql(`select count(*)::int as n from pg_stat_activity where query like '%student_export%' and pid <> pg_backend_pid()`)).toEqual([{ n: 0 }]);
  });

  it('a download never read is abandoned after its first-read wait: onEnd runs (the export slot is given back), nothing was produced', async () => {
    let produced = false;
    let ended = 0;
    pullStream('test download', deps.logger, async () => void (produced = true), { firstReadMs: 200, onEnd: () => ended++ });
    await sleep(400);
    expect({ produced, ended }).toEqual({ produced: false, ended: 1 });
  });
});

describe('deeply nested JSON (with an Idempotency-Key) is a 400, not a stack overflow', () => {
  const good = { email: 'a@example.edu', course_name: 'Art', name: 'A' };
  const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

  it('an ignored team field nested 5,000 deep', async () => {
    const body = `{"email":"a@example.edu","course_name":"Art","team_id":${nested(5_000)}}`;
    const res = await send(app, 'POST', '/admin/enrollments', body, { 'Idempotency-Key': 'deep-1' });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'invalid', message: expect.stringMatching(/nested deeper than 32/) });
  });

  it('15 MB of brackets is refused at once, before it is parsed', async () => {
    const started = Date.now();
    const res = await send(app, 'POST', '/admin/enrollments/batch', nested(7_500_000), { 'Idempotency-Key': 'deep-2' });
    expect(res.status).toBe(400);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('brackets inside strings do not count, and ordinary nesting is fine', async () => {
    const res = await send(app, 'POST', '/admin/enrollments', { ...good, name: '[{'.repeat(50), team_id: [[[[1]]]] }, { 'Idempotency-Key': 'deep-3' });
    expect(res.status).toBe(202);
  });
});
