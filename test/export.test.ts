import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { knexOf } from '../src/db/orm.js';
import type { Deps } from '../src/process/deps.js';
import { createApp } from '../src/http/app.js';
import { MAX_CONCURRENT_EXPORTS } from '../src/http/routes/students.routes.js';
import { studentExportStream } from '../src/students/student-export.js';
import { createTestDeps, truncateAll } from './support/deps.js';
import { seeder } from './support/seed.js';
import { ADMIN, READER } from './support/env.js';
import { waitFor } from './support/wait.js';

let deps: Deps;
let app: ReturnType<typeof createApp>;
beforeAll(async () => {
  deps = await createTestDeps();
  app = createApp(deps);
});
beforeEach(() => truncateAll(deps));
afterAll(() => deps.close());

const HEADER = 'id,name,email,course_name,active,team_id,team_name,team_number';
// Seeding with plain SQL: the reads must not depend on the write path.
const { sql, student, course, enroll } = seeder(() => deps);

const exportCsv = (headers: Record<string, string> = READER) => app.request('/api/v1/admin/students/export.csv', { headers });
const records = (text: string): string[][] => parse(text, { relax_column_count: false });
const pgClientsInUse = () => (knexOf(deps.orm).client as { pool: { numUsed(): number } }).pool.numUsed();

/** Waits until the export has given every database client back to the pool. */
const clientsGivenBack = () => waitFor('every database client back in the pool', () => pgClientsInUse() === 0, { timeoutMs: 5_000, everyMs: 20 });

describe('GET /admin/students/export.csv: columns and content (CONTRACT §4 Reads)', () => {
  it('is an attachment of text/csv with the contract columns; course_name is the active enrollment', async () => {
    const [math, art, old] = [await course('Math'), await course('Art'), await course('Old')];
    const ada = await student('Ada', 'ada@example.org');
    const bob = await student('Bob', 'bob@example.org');
    const cy = await student('Cy', 'cy@example.org');
    await enroll(ada, art, true, '2026-03-01T00:00:00Z');
    await enroll(ada, math, true, '2026-01-01T00:00:00Z');
    await enroll(bob, old, false);
    const res = await exportCsv();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="[^"]+\.csv"$/);
    expect(await res.text()).toBe(
      [HEADER, `${ada},Ada,ada@example.org,Math,true,,,`, `${bob},Bob,bob@example.org,,false,,,`, `${cy},Cy,cy@example.org,,false,,,`, '']
        .join('\r\n'),
    );
  });

  it('quotes commas, quotes and line breaks per RFC 4180', async () => {
    const names = ['Doe, Jane', 'The "Boss"', 'Two\nLines', 'Carriage\r\nReturn'];
    for (const [i, name] of names.entries()) await student(name, `q${i}@example.org`);
    const text = await (await exportCsv()).text();
    expect(text).toContain(',"Doe, Jane",');
    expect(text).toContain(',"The ""Boss""",');
    expect(records(text).slice(1).map((r) => r[1])).toEqual(names);
  });

  it.each(['=SUM(A1:A2)', '+1+2', '-3', '@cmd', '\tTabbed', '\rReturned'])(
    'a cell starting like %j gets a leading quote',
    async (dangerous) => {
      const id = await student(dangerous, `${dangerous.replace(/\W/g, '')}x@example.org`);
      await enroll(id, await course(dangerous), true);
      const text = await (await exportCsv()).text();
      const [, row] = records(text);
      expect(row![1]).toBe(`'${dangerous}`);
      expect(row![3]).toBe(`'${dangerous}`);
    },
  );

  it('neutralises dangerous emails as well, and leaves ordinary cells alone', async () => {
    await student('Plain Name', '=HYPERLINK("x")@example.org');
    const [, row] = records(await (await exportCsv()).text());
    expect(row!.slice(1, 5)).toEqual(['Plain Name', `'=HYPERLINK("x")@example.org`, '', 'false']);
  });

  it('the read token may export (a GET under /admin); no token is 401', async () => {
    for (const token of [READER, ADMIN]) {
      const res = await exportCsv(token);
      expect(res.status).toBe(200);
      await res.body!.cancel();
    }
    expect((await exportCsv({})).status).toBe(401);
  });

  it('with no students it is the header alone', async () => {
    expect(await (await exportCsv()).text()).toBe(`${HEADER}\r\n`);
  });
});

describe('GET /admin/students/export.csv: streaming from a database cursor', () => {
  it('streams 20,000 students in several chunks, every one once, in id order', async () => {
    const math = await course('Math');
    await sql(`insert into students (name, email) select 'student-' || n, 's' || n || '@example.org' from generate_series(1, 20000) n`);
    await sql(`insert into course_enrollments (course_id, student_id, active) select ?, id, id % 3 = 0 from students`, [math]);
    const res = await exportCsv();
    expect(res.body).toBeInstanceOf(ReadableStream);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    let chunks = 0;
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      chunks += 1;
      text += decoder.decode(r.value, { stream: true });
    }
    expect(chunks).toBeGreaterThan(2);
    const rows = records(text);
    expect(rows[0]!.join(',')).toBe(HEADER);
    expect(rows).toHaveLength(20_001);
    expect(rows.slice(1).map((r) => Number(r[0]))).toEqual(Array.from({ length: 20_000 }, (_, i) => i + 1));
    expect(rows[3]).toEqual(['3', 'student-3', 's3@example.org', 'Math', 'true', '', '', '']);
    expect(rows[4]).toEqual(['4', 'student-4', 's4@example.org', '', 'false', '', '', '']);
    await clientsGivenBack();
  });

  it('gives the database client back when the reader disconnects half-way', async () => {
    await sql(`insert into students (name, email) select 'student-' || n, 's' || n || '@example.org' from generate_series(1, 20000) n`);
    const res = await exportCsv();
    const reader = res.body!.getReader();
    await reader.read();
    await reader.cancel();
    await clientsGivenBack();
    const open = await sql(
      `select count(*)::int as n from pg_stat_activity where state like 'idle in transaction%' and query like '%student_export%'`,
    );
    expect(open).toEqual([{ n: 0 }]);
  });

  it('a database failure half-way errors the stream instead of ending it like a complete file', async () => {
    await sql(`insert into students (name, email) select 'student-' || n, 's' || n || '@example.org' from generate_series(1, 20000) n`);
    const res = await exportCsv();
    const reader = res.body!.getReader();
    await reader.read();
    // Backpressure holds the export between batches, inside its transaction: end its connection there.
    await waitFor('the export to wait between batches', async () => {
      const killed = await sql<{ ok: boolean }>(
        `select pg_terminate_backend(pid) as ok from pg_stat_activity
          where query like 'fetch forward % from student_export' and pid <> pg_backend_pid()`,
      );
      return killed.length > 0;
    }, { timeoutMs: 5_000, everyMs: 20 });
    await expect(
      (async () => {
        for (let r = await reader.read(); !r.done; r = await reader.read());
      })(),
    ).rejects.toThrow();
    await clientsGivenBack();
  });

  it('gives the database client back when the reader takes nothing for too long', async () => {
    await sql(`insert into students (name, email) select 'student-' || n, 's' || n || '@example.org' from generate_series(1, 20000) n`);
    const stream = studentExportStream(deps.orm, deps.logger, 200);
    const reader = stream.getReader();
    await reader.read();
    await clientsGivenBack();
    await expect(reader.read()).rejects.toThrow(/took nothing/);
  });
});

describe('GET /admin/students/export.csv: concurrency', () => {
  it('refuses a fourth export at once with 503 and Retry-After, and accepts again once one ends', async () => {
    await student('Ana', 'ana@x.edu');
    const open = await Promise.all(Array.from({ length: MAX_CONCURRENT_EXPORTS }, () => exportCsv()));
    const refused = await exportCsv();
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('30');
    expect((await refused.json()).error.code).toBe('unavailable');
    await Promise.all(open.map((r) => r.text()));
    await waitFor('an export to be accepted again', async () => {
      const res = await exportCsv();
      await res.text().catch(() => {});
      return res.status === 200;
    }, { timeoutMs: 5_000, everyMs: 20 });
  });
});
