import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserMissing, startBrowserStack, type BrowserStack } from '../support/browser.js';
import { testConfig } from '../support/env.js';
import { waitFor } from '../support/wait.js';

/**
 * The operator console (issue 17) in a real browser (Debian's chromium through playwright-core)
 * against a real API and worker process, driven as an operator would: the keyboard and the
 * mouse, the page's own labels and roles. Screenshots go to coverage/console/ (git-ignored).
 */
const skipBrowser = browserMissing('console');
const SHOTS = path.resolve('coverage/console');

describe.skipIf(skipBrowser)('the operator console, in chromium', () => {
  const config = testConfig();
  const auth = { Authorization: `Bearer ${config.adminToken}` };
  let stack: BrowserStack | undefined;
  let browser: Browser;
  let base: string;

  beforeAll(async () => {
    stack = await startBrowserStack(config);
    ({ browser, base } = stack);
    mkdirSync(SHOTS, { recursive: true });
    console.log(`console screenshots: ${SHOTS}`);
  });

  afterAll(() => stack?.close());

  /** A job through the API, as another client (the CLI, a feed) would start it; resolves when it settles. */
  async function importCsv(csv: string, query = ''): Promise<string> {
    const res = await fetch(`${base}/api/v1/admin/imports${query}`, { method: 'POST', headers: { ...auth, 'Content-Type': 'text/csv' }, body: csv });
    expect(res.status).toBe(202);
    const { job_id: id } = (await res.json()) as { job_id: string };
    await settled(id);
    return id;
  }
  async function settled(id: string) {
    return waitFor(`job ${id} to settle`, async () => {
      const job = (await (await fetch(`${base}/api/v1/jobs/${id}`, { headers: auth })).json()) as { status: string };
      return ['completed', 'completed_with_errors', 'failed', 'awaiting_approval'].includes(job.status) ? job : undefined;
    }, { timeoutMs: 30_000, everyMs: 100 });
  }

  /** A fresh tab (empty sessionStorage) at `hash`, the token entered by keyboard; records requests and script errors. */
  async function openConsole(hash: string): Promise<{ context: BrowserContext; page: Page; requests: string[]; problems: string[] }> {
    const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1200, height: 900 } });
    const page = await context.newPage();
    const requests: string[] = [];
    const problems: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('console', (m) => m.type() === 'error' && !/Failed to load resource/.test(m.text()) && problems.push(m.text()));
    await page.goto(`${base}/${hash}`);
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('token');
    await page.keyboard.type(config.adminToken);
    await page.keyboard.press('Enter');
    await page.getByText('A token is set for this browser tab.').waitFor();
    return { context, page, requests, problems };
  }
  const onlyThisHost = (requests: string[]) => {
    expect(requests.every((url) => url.startsWith(`${base}/`)), requests.join('\n')).toBe(true);
    expect(requests.some((url) => /token/i.test(url))).toBe(false);
  };
  const cells = (page: Page, table: string) => page.locator(`${table} tbody tr`).evaluateAll((trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent ?? '')));
  /** The cells of a table once it shows `n` rows: a page fills (and refills) its tables as its requests answer. */
  const rowsOf = async (page: Page, table: string, n: number) => {
    await expect.poll(async () => (await cells(page, table)).length, { timeout: 15_000 }).toBe(n);
    return cells(page, table);
  };

  it('a sync that holds: uploaded from the import form, opened from the jobs list, its changes read, approved, and seen complete', async () => {
    const roster = ['email,name,course_name', ...Array.from({ length: 10 }, (_, i) => `p${i}@uni.edu,Pupil ${i},Physics 201`)].join('\n');
    await importCsv(`${roster}\n`, '?filename=physics-roster.csv&source=sis-nightly');
    const { context, page, requests, problems } = await openConsole('#/import');
    try {
      await expect.poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe('Import a roster (CSV)');
      await page.getByLabel(/sync: the file is the whole truth/).check();
      // A sync is a dry run by default; its thresholds show their defaults.
      expect(await page.getByLabel(/Dry run/).isChecked()).toBe(true);
      expect(await page.getByLabel(/Hold above this % of deactivations/).getAttribute('placeholder')).toBe('10');
      await page.getByLabel(/Dry run/).uncheck();
      await page.getByLabel(/Source/).fill('sis-nightly');
      // Two of the ten stay: the sweep would deactivate 8 of 10 (80% > 10%), so it holds.
      await page.locator('#file').setInputFiles({ name: 'nightly.csv', mimeType: 'text/csv', buffer: Buffer.from('email,course_name\np0@uni.edu,Physics 201\np1@uni.edu,Physics 201\n') });
      await page.getByRole('button', { name: 'Upload and import' }).click();
      await expect.poll(() => page.locator('#status').textContent(), { timeout: 30_000 }).toMatch(/^Held for approval/);
      await expect.poll(() => page.title(), { timeout: 15_000 }).toMatch(/^\(1 held\) /);

      await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: /Jobs/ }).click();
      const held = await rowsOf(page, '#held-table', 1);
      expect(held[0]!.join('|')).toMatch(/import\|Held Held\|nightly\.csv\|sync, source sis-nightly, scope courses, max 10% deactivated, max 10% invalid\|.*\|8$/);
      await expect.poll(async () => (await cells(page, '#jobs-table')).map((r) => r[4])).toEqual(['nightly.csv', 'physics-roster.csv']);
      await page.locator('#held-table').getByRole('link').first().click();

      // The job's page: the hold's figures, then the changes it would make.
      await page.locator('#hold-deactivations').waitFor();
      expect(await page.locator('#hold-deactivations').textContent()).toBe('8');
      expect(await page.locator('#hold-active').textContent()).toBe('10');
      expect(await page.locator('#hold-percent').textContent()).toBe('80%');
      expect(await page.getByRole('heading', { name: 'Changes it would make' }).isVisible()).toBe(true);
      let changes = await rowsOf(page, '#changes-table', 8);
      expect(changes.every((r) => r[1] === 'Enrollment deactivated' && r[3] === 'Physics 201' && r[6] === 'sweep')).toBe(true);
      await page.getByLabel('Kind').selectOption('enrollment_created');
      await page.getByRole('button', { name: 'Filter' }).click();
      await expect.poll(() => page.locator('#job-changes').textContent()).toMatch(/No change matches/);
      expect(page.url()).toMatch(/\?kind=enrollment_created$/); // the filter is part of the deep link
      await page.getByLabel('Kind').selectOption('');
      await page.getByLabel('Course (name or id)').fill('physics 201');
      await page.getByRole('button', { name: 'Filter' }).click();
      await expect.poll(async () => (await cells(page, '#changes-table')).length).toBe(8);
      await page.screenshot({ path: `${SHOTS}/held-sync.png`, fullPage: true });

      // Approve: what it will do is said first, then it applies and completes.
      await page.getByRole('button', { name: 'Approve…' }).click();
      expect(await page.locator('#confirm-text').textContent()).toMatch(/apply 8 deactivations/);
      expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Approve and apply');
      await page.keyboard.press('Enter');
      await expect.poll(() => page.locator('#job-status').textContent(), { timeout: 30_000 }).toBe('Completed');
      expect(await page.locator('#jobcount-enrollments_deactivated').textContent()).toBe('8');
      expect(await page.getByRole('heading', { name: 'Changes', exact: true }).isVisible()).toBe(true);
      await expect.poll(() => page.title(), { timeout: 15_000 }).not.toMatch(/held/);
      await page.screenshot({ path: `${SHOTS}/approved-sync.png`, fullPage: true });

      // The changes download as CSV, with the filter.
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download these changes (CSV)' }).click()]);
      const csv = readFileSync((await download.path())!, 'utf8').trim().split(/\r?\n/);
      expect(csv[0]).toBe('seq,kind,student_id,email,course_id,course_name,before,after,line');
      expect(csv).toHaveLength(9);
      onlyThisHost(requests);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  }, 90_000);

  it('a student found, their history opened, the job that changed them reverted after a preview, and the conflict reported', async () => {
    const first = await importCsv('email,name,course_name\ngrace@navy.mil,Grace Hopper,Art 100\nalan@uni.edu,Alan Turing,Art 100\n', '?mode=add&filename=art.csv');
    // A later job changes Grace's enrollment again: reverting the first one conflicts there.
    const later = await fetch(`${base}/api/v1/admin/enrollments`, {
      method: 'POST', headers: { ...auth, 'Content-Type': 'application/json' },
      body: JSON.stringify({ email: 'grace@navy.mil', course_name: 'Art 100', action: 'deactivate' }),
    });
    const laterId = ((await later.json()) as { job_id: string }).job_id;
    await settled(laterId);

    const { context, page, requests, problems } = await openConsole('');
    try {
      await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Students' }).click();
      await page.getByLabel('Name or email contains').fill('HOPPER');
      await page.keyboard.press('Enter');
      await expect.poll(async () => (await cells(page, '#students-table')).map((r) => r[0])).toEqual(['Grace Hopper']);
      expect(page.url()).toMatch(/#\/students\?q=HOPPER$/);
      await page.getByRole('link', { name: /Open Grace Hopper/ }).click();
      await page.getByRole('heading', { name: 'Grace Hopper' }).waitFor();
      await expect.poll(() => cells(page, '#enrollments-table')).toEqual([['Art 100', 'Inactive', 'by hand (no source)']]);
      const history = await rowsOf(page, '#history-table', 3);
      expect(history.map((r) => [r[1], r[5]?.split(' ')[0]])).toEqual([['Enrollment deactivated', 'command'], ['Enrollment created', 'import'], ['Student created', 'import']]);

      // The import that made her enrollment: preview its revert, then revert it.
      await page.getByRole('link', { name: new RegExp(`Open the import job ${first} that made this change`) }).first().click();
      await page.getByRole('button', { name: 'Preview the revert' }).click();
      await page.locator('#preview-text').waitFor({ timeout: 30_000 });
      expect(await page.locator('#preview-text').textContent()).toMatch(/It would deactivate 1 enrollments.*1 conflicts/);
      expect((await page.locator('#revert-box tbody tr').first().textContent()) ?? '').toMatch(/changed_since/);
      await page.screenshot({ path: `${SHOTS}/revert-preview.png`, fullPage: true });
      await page.getByRole('button', { name: 'Revert now' }).click();

      // The revert's own page: its result, its conflict report naming the later job, links both ways.
      await page.locator('#job-reverts').waitFor({ timeout: 15_000 });
      await expect.poll(() => page.locator('#job-status').textContent(), { timeout: 30_000 }).toBe('Completed with errors');
      expect(await page.locator('#job-reverts').textContent()).toBe(first);
      expect(await page.locator('#jobcount-enrollments_deactivated').textContent()).toBe('1'); // Alan's
      const conflicts = await rowsOf(page, '#errors-table', 1);
      expect(conflicts[0]![2]).toBe('changed_since');
      expect(conflicts[0]!.join(' ')).toContain(laterId);
      await page.screenshot({ path: `${SHOTS}/revert-result.png`, fullPage: true });
      await page.locator('#job-reverts a').click();
      await page.locator('#job-reverted-by').waitFor();
      expect(await page.getByText('This job was reverted').isVisible()).toBe(true);

      // Courses: found by a part of the name, with the roster and its size.
      await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Courses' }).click();
      await page.getByLabel('Course name contains').fill('art');
      await page.keyboard.press('Enter');
      await expect.poll(async () => (await cells(page, '#courses-table'))[0]).toEqual(['Art 100', '0', '2']);
      await page.getByRole('link', { name: 'Art 100' }).click();
      await page.locator('#course-inactive').waitFor();
      expect(await page.locator('#course-inactive').textContent()).toBe('2');
      await page.getByRole('radio', { name: 'inactive', exact: true }).check();
      await expect.poll(async () => (await cells(page, '#roster-table')).map((r) => r[0])).toEqual(['Grace Hopper', 'Alan Turing']);
      onlyThisHost(requests);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  }, 90_000);

  it('a job page is a deep link: pasted into a new tab, it opens there once the token is given', async () => {
    const id = await importCsv('email,name,course_name\nbad-email,X,Y\nok@uni.edu,Ok,Y\n', '?filename=deep.csv');
    const { context, page, problems } = await openConsole(`#/jobs/${id}`);
    try {
      await page.getByRole('heading', { name: /Import deep\.csv/ }).waitFor();
      await expect.poll(() => page.evaluate(() => document.activeElement?.tagName)).toBe('H2'); // announced to a screen reader
      expect(await page.locator('#job-file').textContent()).toBe('deep.csv');
      await expect.poll(async () => (await cells(page, '#errors-table'))[0]?.slice(0, 3)).toEqual(['2', 'email', 'invalid_email']);
      expect(await page.title()).toMatch(/import deep\.csv/);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
