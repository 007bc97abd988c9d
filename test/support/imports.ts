import type { App } from '../../src/http/app.js';
import { ADMIN } from './env.js';

/** Helpers shared by the import test files. */

export type UploadAnswer = { status: number; body: any };

/** POSTs a CSV body (text/csv unless told otherwise) to /admin/imports. */
export async function uploadCsv(
  app: App,
  csv: string | Buffer,
  opts: { query?: string; headers?: Record<string, string> } = {},
): Promise<UploadAnswer> {
  const res = await app.request(`/api/v1/admin/imports${opts.query ? `?${opts.query}` : ''}`, {
    method: 'POST',
    headers: { ...ADMIN, 'Content-Type': 'text/csv', ...opts.headers },
    body: typeof csv === 'string' ? csv : new Uint8Array(csv),
  });
  return { status: res.status, body: await res.json() };
}

/** Every row error of a job, in order, through GET /jobs/{id}/errors. */
export async function jobErrors(app: App, jobId: string): Promise<Array<{ line: number | null; column: string | null; code: string; message: string; value: string | null }>> {
  const items = [];
  let cursor: string | null = '';
  while (cursor !== null) {
    const res = await app.request(`/api/v1/jobs/${jobId}/errors?limit=1000${cursor ? `&cursor=${cursor}` : ''}`, { headers: ADMIN });
    const page = (await res.json()) as { items: any[]; next_cursor: string | null };
    items.push(...page.items);
    cursor = page.next_cursor;
  }
  return items;
}

/** A roster CSV of `n` clean rows (name,email,course_name), students `from`.. */
export function cleanCsv(n: number, opts: { from?: number; courses?: number; course?: (i: number) => string } = {}): string {
  const from = opts.from ?? 0;
  const courses = opts.courses ?? 7;
  const lines = ['name,email,course_name'];
  for (let i = from; i < from + n; i++) lines.push(`Student ${i},student${i}@example.edu,${opts.course ? opts.course(i) : `Course ${i % courses}`}`);
  return `${lines.join('\n')}\n`;
}

