import { mkdirSync, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserMissing, startBrowserStack, type BrowserStack } from './support/browser.js';
import { testConfig } from './support/env.js';
import { waitFor } from './support/wait.js';

/**
 * The admin page in a real browser (Debian's chromium through playwright-core) against a real API
 * and worker process. Without /usr/bin/chromium it is skipped, except in CI, where it must run.
 */
const skipBrowser = browserMissing('admin page');

const DIRTY_CSV = [
  'email,name,course_name',
  'ada@uni.edu,Ada Lovelace,Mathematics 101',
  'alan@uni.edu,Alan Turing,Mathematics 101',
  'not-an-email,Bad Email,Physics 201', // line 4: bad email
  'grace@uni.edu,Grace Hopper,Physics 201',
  'linus@uni.edu,Linus Torvalds,', // line 6: empty course
  '',
].join('\n');



describe('the SSE reader of the admin page (public/assets/sse.js)', () => {
  it('parses events split anywhere, CRLF and CR line ends, comments and multi-line data', async () => {
    const { createSseParser } = await import(pathToFileURL('public/assets/sse.js').href);
    const events: Array<{ event: string; data: string; id: string }> = [];
    const parser = createSseParser((e: { event: string; data: string; id: string }) => events.push(e));
    const stream = ': keepalive\n\nevent: progress\r\nid: 1\r\ndata: {"a":1}\r\n\r\ndata: x\rdata: y\r\revent: done\ndata: {"b":2}\n\nevent: lost\ndata: z';
    for (let i = 0; i < stream.length; i += 3) parser.push(stream.slice(i, i + 3));
    parser.end();
    expect(events).toEqual([
      { event: 'progress', data: '{"a":1}', id: '1' },
      { event: 'message', data: 'x\ny', id: '1' },
      { event: 'done', data: '{"b":2}', id: '1' },
    ]);
  });
});

describe('progress figures of the admin page (public/assets/format.js)', () => {
  it('measures rows per second over a sliding window and words the ETA', async () => {
    const { rateMeter, duration } = await import(pathToFileURL('public/assets/format.js').href);
    const rate = rateMeter(10_000);
    expect(rate(0, 0)).toBeNull();
    expect(rate(100, 200)).toBeNull(); // under half a second: not enough to say
    expect(rate(2_000, 1_000)).toBe(2_000);
    expect(rate(22_000, 11_000)).toBe(2_000); // the window slid past the first sample
    expect(rate(25_000, 12_000)).toBe(3_000); // only the last ten seconds count
    const late = rateMeter(10_000);
    expect([late(0, 0), late(0, 5_000), late(1_000, 6_000)]).toEqual([null, null, 1_000]); // 5 s of nothing left out
    expect([duration(12.4), duration(185), duration(3 * 3600 + 125)]).toEqual(['12 s', '3 min 5 s', '3 h 2 min']);
  });
});

describe.skipIf(skipBrowser)('the admin page at / and the docs at /docs, in chromium', () => {
  const config = testConfig();
  let stack: BrowserStack | undefined;
  let browser: Browser;
  let base: string;

  beforeAll(async () => {
    stack = await startBrowserStack(config);
    ({ browser, base } = stack);
    mkdirSync('coverage/console', { recursive: true });
  });

  afterAll(() => stack?.close());

  /** A fresh browser context (empty sessionStorage) that records every request and script error. */
  async function openPage(path: string): Promise<{ context: BrowserContext; page: Page; requests: string[]; problems: string[] }> {
    const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1100, height: 900 } });
    const page = await context.newPage();
    const requests: string[] = [];
    const problems: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    // "Failed to load resource" is Chrome reporting an HTTP error status the page itself handles.
    page.on('console', (m) => m.type() === 'error' && !/Failed to load resource/.test(m.text()) && problems.push(m.text()));
    await page.goto(`${base}${path}`);
    return { context, page, requests, problems };
  }

  it('takes the token, imports a dropped dirty CSV following its event stream, and shows counts and errors with line numbers', async () => {
    const { context, page, requests, problems } = await openPage('/#/import');
    try {
      // Keyboard only: the token field has the focus, Enter submits it; the focus goes to the page's heading, then Tab reaches the file.
      await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('token');
      await page.keyboard.type(config.adminToken);
      await page.keyboard.press('Enter');
      await page.getByText('A token is set for this browser tab.').waitFor();
      expect(await page.locator('#token-form').isVisible()).toBe(false);
      await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('import-title');
      await page.keyboard.press('Tab');
      expect(await page.evaluate(() => document.activeElement?.id)).toBe('file');

      // Drop the file on the drop zone, as a user dragging it from their desktop would.
      await page.evaluate((csv) => {
        const transfer = new DataTransfer();
        transfer.items.add(new File([csv], 'roster.csv', { type: 'text/csv' }));
        document.getElementById('drop')!.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
      }, DIRTY_CSV);
      await page.getByText(/Selected: roster\.csv/).waitFor();
      expect(await page.locator('input[name=mode][value=set]').isChecked()).toBe(true);
      await page.getByRole('button', { name: 'Upload and import' }).click();

      const status = page.locator('#status');
      await expect.poll(() => status.textContent(), { timeout: 30_000 }).toMatch(/^Completed with errors: 5 rows, 3 valid, 2 invalid\.$/);
      const countOf = (key: string) => page.locator(`#count-${key}`).textContent();
      expect(await countOf('rows')).toBe('5');
      expect(await countOf('valid')).toBe('3');
      expect(await countOf('invalid')).toBe('2');
      expect(await countOf('students_created')).toBe('3');
      expect(await countOf('enrollments_created')).toBe('3');
      expect(await page.locator('#upload-bar').evaluate((el: HTMLProgressElement) => el.value)).toBe(100);
      expect(await page.locator('#job-bar').evaluate((el: HTMLProgressElement) => el.value)).toBe(100);
      // Each bar is named by its label and described by the text beside it, for screen readers.
      for (const [name, text] of [['Upload', /^209 B uploaded and stored$/], ['Processing', /5 of 5 rows/]] as const) {
        const bar = page.getByRole('progressbar', { name });
        const describedBy = await bar.getAttribute('aria-describedby');
        expect(await page.locator(`#${describedBy}`).textContent()).toMatch(text);
      }

      const rows = await page.locator('#errors-body tr').evaluateAll((trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
      expect(rows).toHaveLength(2);
      expect(rows[0]!.slice(0, 2)).toEqual(['4', 'email']);
      expect(rows[1]!.slice(0, 2)).toEqual(['6', 'course_name']);
      expect(await page.locator('#errors-title').textContent()).toBe('Row errors (2)');

      // The progress came from the event stream, with the token in the header (never the URL).
      const jobId = (await page.evaluate(() => JSON.parse(sessionStorage.getItem('enrollment.jobs')!)[0].id)) as string;
      expect(requests).toContain(`${base}/api/v1/jobs/${jobId}/events`);
      expect(requests.every((url) => url.startsWith(`${base}/`)), 'every request stays on the service').toBe(true);
      expect(requests.some((url) => /token/i.test(url))).toBe(false);

      // The whole error list downloads as CSV.
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download all errors (CSV)' }).click()]);
      expect(download.suggestedFilename()).toBe(`job-${jobId}-errors.csv`);
      const csv = readFileSync((await download.path())!, 'utf8');
      expect(csv.split(/\r?\n/)[0]).toBe('line,column,code,message,value');
      expect(csv).toMatch(/^4,email,/m);
      expect(csv).toMatch(/^6,course_name,/m);

      await page.screenshot({ path: 'coverage/console/admin-page.png', fullPage: true });
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  }, 60_000);

  it('lists every import with its file name in the jobs list, those of other clients too (a multipart upload\'s own name)', async () => {
    // Another client (say a script posting a form) imports a file: the page has never seen it.
    const form = new FormData();
    form.append('file', new Blob(['email,course_name,name\nother@uni.edu,Art 100,Other Client\n'], { type: 'text/csv' }), 'other-client.csv');
    const res = await fetch(`${base}/api/v1/admin/imports`, { method: 'POST', headers: { Authorization: `Bearer ${config.adminToken}` }, body: form });
    const { job_id: jobId } = await res.json();
    await waitFor('the other import to finish', async () => {
      const job = await (await fetch(`${base}/api/v1/jobs/${jobId}`, { headers: { Authorization: `Bearer ${config.adminToken}` } })).json();
      return job.status === 'completed';
    });
    const { context, page, problems } = await openPage('/');
    try {
      await page.keyboard.type(config.adminToken);
      await page.keyboard.press('Enter');
      await expect.poll(() => page.locator('#jobs-table tbody tr').first().textContent()).toMatch(/import.*Completed.*other-client\.csv.*set.*1/);
      expect(await page.locator('#jobs-table').textContent()).not.toMatch(/another upload/);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('asks for the token again when the service refuses it (401)', async () => {
    const { context, page } = await openPage('/#/import');
    try {
      await page.getByLabel(/Admin token/).fill('not-the-token-at-all');
      await page.getByRole('button', { name: 'Use this token' }).click();
      await page.getByRole('alert').getByText(/refused the token \(401 unauthorized\)/).waitFor();
      expect(await page.locator('#token-form').isVisible()).toBe(true);
      expect(await page.getByText('A token is set for this browser tab.').isVisible()).toBe(false);
      expect(await page.getByRole('button', { name: 'Upload and import' }).isDisabled()).toBe(true);
      expect(await page.evaluate(() => sessionStorage.getItem('enrollment.token'))).toBeNull();
      await page.screenshot({ path: 'coverage/console/admin-page-401.png' });
    } finally {
      await context.close();
    }
  });

  it('renders the API docs at /docs from the service alone', async () => {
    const { context, page, requests, problems } = await openPage('/docs');
    try {
      await page.locator('.opblock-summary-path[data-path="/api/v1/admin/imports"]').waitFor({ timeout: 20_000 });
      expect(await page.locator('.opblock').count()).toBeGreaterThanOrEqual(17);
      expect(requests).toContain(`${base}/openapi.json`);
      expect(requests.every((url) => url.startsWith(`${base}/`) || url.startsWith('data:')), requests.join('\n')).toBe(true);
      await page.screenshot({ path: 'coverage/console/docs-page.png' });
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
