import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../../src/http/app.js';
import { uploadFileName } from '../../src/imports/multipart.js';
import type { Deps } from '../../src/process/deps.js';
import { createTestDeps, truncateAll } from '../support/deps.js';
import { ADMIN } from '../support/env.js';

/** CONTRACT §4: an import's `file_name` is `?filename=` for a raw body, the multipart upload's own file name otherwise. */

let deps: Deps;
let app: ReturnType<typeof createApp>;
beforeAll(async () => {
  deps = await createTestDeps();
  app = createApp(deps);
});
beforeEach(() => truncateAll(deps));
afterAll(() => deps.close());

const CSV = 'email,course_name,name\nada@uni.edu,Art 100,Ada\n';

async function upload(body: BodyInit, query = '', headers: Record<string, string> = {}) {
  const res = await app.request(`/api/v1/admin/imports${query}`, { method: 'POST', headers: { ...ADMIN, ...headers }, body });
  expect(res.status, await res.clone().text()).toBe(202);
  const { job_id } = (await res.json()) as { job_id: string };
  const job = (await (await app.request(`/api/v1/jobs/${job_id}`, { headers: ADMIN })).json()) as { id: string; file_name: string | null };
  return job;
}
const form = (name: string, csv = CSV) => {
  const f = new FormData();
  f.append('file', new Blob([csv], { type: 'text/csv' }), name);
  return f;
};

describe('the file name of an import', () => {
  it('is the multipart upload\'s own file name, UTF-8 included; ?filename= wins over it', async () => {
    expect((await upload(form('roster-2026.csv'))).file_name).toBe('roster-2026.csv');
    expect((await upload(form('Übersicht été.csv'))).file_name).toBe('Übersicht été.csv');
    expect((await upload(form('ignored.csv'), '?filename=nightly.csv')).file_name).toBe('nightly.csv');
  });

  it('is ?filename= for a raw body, and null without one', async () => {
    expect((await upload(CSV, '?filename=raw.csv', { 'Content-Type': 'text/csv' })).file_name).toBe('raw.csv');
    expect((await upload(CSV, '', { 'Content-Type': 'text/csv' })).file_name).toBeNull();
  });

  it('keeps only the last segment of a path, without control characters, and a raw and a multipart upload stay the same request', async () => {
    expect(uploadFileName('C:\\Users\\ops\\roster.csv')).toBe('roster.csv');
    expect(uploadFileName('/home/ops/roster.csv')).toBe('roster.csv');
    expect(uploadFileName(' a\u0000b\u001b.csv ')).toBe('ab.csv');
    expect(uploadFileName('x'.repeat(300) + '.csv')).toHaveLength(255);
    expect(uploadFileName('')).toBeNull();
    expect(uploadFileName('dir/')).toBeNull();

    const key = { 'Idempotency-Key': 'same-file-two-ways' };
    const raw = await upload(CSV, '', { 'Content-Type': 'text/csv', ...key });
    const multipart = await upload(form('same.csv'), '', key);
    expect(multipart.id).toBe(raw.id); // the first answer again: the part's name is not part of the request's fingerprint
    expect(multipart.file_name).toBeNull();
  });
});
