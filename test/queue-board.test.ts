import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Deps } from '../src/process/deps.js';
import { createApp, type App } from '../src/http/app.js';
import { browserMissing, launchChromium } from './support/browser.js';
import { createTestDeps } from './support/deps.js';
import { ADMIN, READER } from './support/env.js';

let api: Deps;
let app: App;

beforeAll(async () => {
  api = await createTestDeps('api');
  app = createApp(api);
});
// Obliterating also forgets a pause: every test starts with empty, running queues.
const emptyQueues = () => Promise.all([api.queues.commands.obliterate({ force: true }), api.queues.imports.obliterate({ force: true })]);
afterEach(emptyQueues);
afterAll(async () => {
  await emptyQueues();
  await api.close();
});

const basic = (password: string) => ({ Authorization: `Basic ${Buffer.from(`operator:${password}`).toString('base64')}` });
const adminToken = ADMIN.Authorization.replace('Bearer ', '');

describe('the queue board at /admin/queues', () => {
  it('needs the admin token: 401 without one (asking a browser for Basic), 403 with the read token', async () => {
    for (const path of ['/admin/queues', '/admin/queues/api/queues', '/admin/queues/static/js/main.js']) {
      const none = await app.request(path);
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
      expect(await none.json()).toMatchObject({ error: { code: 'unauthorized' } });
      const reader = await app.request(path, { headers: READER });
      expect(reader.status).toBe(403);
      expect(await reader.json()).toMatchObject({ error: { code: 'forbidden' } });
    }
    expect((await app.request('/admin/queues', { headers: basic('wrong-token-0123456789') })).status).toBe(401);
    expect((await app.request('/admin/queues', { headers: basic(READER.Authorization.replace('Bearer ', '')) })).status).toBe(403);
  });

  it('serves the page, the assets it loads, and its API over both queues', async () => {
    for (const headers of [ADMIN, basic(adminToken)]) {
      const page = await app.request('/admin/queues', { headers });
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      const html = await page.text();
      expect(html).toContain('<title>Enrollment queues</title>');

      // Every script and stylesheet the page names resolves (through <base href>) to a served file.
      const base = new URL(/<base href="([^"]+)"/.exec(html)![1]!, 'http://localhost');
      const assets = [...html.matchAll(/(?:src|href)="(static\/[^"]+)"/g)].map((m) => new URL(m[1]!, base).pathname);
      expect(assets.filter((a) => a.endsWith('.js')).length).toBeGreaterThan(0);
      expect(assets.filter((a) => a.endsWith('.css')).length).toBeGreaterThan(0);
      for (const asset of assets) {
        const res = await app.request(asset, { headers });
        expect(res.status, asset).toBe(200);
        const type = asset.endsWith('.js') ? /javascript/ : asset.endsWith('.css') ? /text\/css/ : /^image\//;
        expect(res.headers.get('content-type'), asset).toMatch(type);
        expect((await res.arrayBuffer()).byteLength, asset).toBeGreaterThan(100);
      }
    }

    await api.queues.commands.add('apply-command', { jobId: '00000000-0000-4000-8000-000000000001' });
    const res = await app.request('/admin/queues/api/queues?activeQueue=commands&status=latest&page=1&jobsPerPage=10', { headers: ADMIN });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { queues: Array<{ name: string; counts: Record<string, number> }> };
    expect(body.queues.map((q) => q.name).sort()).toEqual(['commands', 'imports']);
    expect(body.queues.find((q) => q.name === 'commands')!.counts.waiting).toBe(1);
  });
});

/** A `src` or `href` naming another host: absolute (`https://…`) or protocol-relative (`//…`). */
const EXTERNAL_REF = /\b(?:src|href)\s*=\s*["']?(?:[a-z][\w+.-]*:)?\/\//gi;

describe('the queue board loads nothing from other hosts (closed networks)', () => {
  it('renders its page without the Google Fonts link of the installed template, or any other external reference', async () => {
    const html = await (await app.request('/admin/queues', { headers: ADMIN })).text();
    expect(html).not.toMatch(/fonts\.googleapis|fonts\.gstatic/);
    expect(html.match(EXTERNAL_REF) ?? [], 'external references left in the page').toEqual([]);
  });
});

describe('the queue board refuses writes that are not demonstrably same-origin', () => {
  const origin = 'http://localhost';
  const addJob = '/admin/queues/api/queues/imports/add';
  // A cross-site <form enctype="text/plain"> whose one field spells JSON: {"name":"forged","data":{},"x":"="}
  const formBody = '{"name":"forged","data":{},"x":"="}\r\n';
  const admin = basic(adminToken);

  it('403 (forbidden, JSON envelope) for forged writes even with the admin credentials, and nothing changes', async () => {
    const forged: Array<[string, string, Record<string, string>, BodyInit?]> = [
      ['cross-site text/plain form POST', addJob, { 'Content-Type': 'text/plain', 'Sec-Fetch-Site': 'cross-site', Origin: 'https://evil.example' }, formBody],
      ['same-site (a sibling subdomain) JSON POST', addJob, { 'Content-Type': 'application/json', 'Sec-Fetch-Site': 'same-site', Origin: 'https://evil.localhost' }, '{"name":"forged"}'],
      ['text/plain POST from a browser without Sec-Fetch-Site', addJob, { 'Content-Type': 'text/plain', Origin: 'https://evil.example' }, formBody],
      ['text/plain POST with neither header (an old browser)', addJob, { 'Content-Type': 'text/plain' }, formBody],
      ['form-encoded POST', addJob, { 'Content-Type': 'application/x-www-form-urlencoded' }, 'name=forged'],
      // Bytes, unlike a string, get no Content-Type from Request: a typeless Blob sent by fetch().
      ['untyped body', addJob, { 'Content-Length': String(formBody.length) }, new TextEncoder().encode(formBody)],
      ['Origin: null (a sandboxed frame)', addJob, { 'Content-Type': 'application/json', Origin: 'null' }, '{"name":"forged"}'],
      ['cross-site bodyless POST', addJob, { 'Sec-Fetch-Site': 'cross-site' }],
      ['cross-site pause', '/admin/queues/api/queues/imports/pause', { 'Sec-Fetch-Site': 'cross-site', Origin: 'https://evil.example' }],
      ['cross-origin pause of every queue', '/admin/queues/api/queues/pause', { Origin: 'https://evil.example' }],
      ['cross-site clean', '/admin/queues/api/queues/imports/clean/waiting', { 'Sec-Fetch-Site': 'cross-site' }],
      ['cross-site retry', '/admin/queues/api/queues/imports/retry/failed', { 'Sec-Fetch-Site': 'cross-site' }],
    ];
    await api.queues.imports.add('apply-import', { jobId: '00000000-0000-4000-8000-000000000002' });
    for (const [what, path, headers, body] of forged) {
      const method = path.endsWith('/add') ? 'POST' : 'PUT';
      const res = await app.request(`${origin}${path}`, { method, headers: { ...admin, ...headers }, body });
      expect(res.status, what).toBe(403);
      expect(await res.json(), what).toMatchObject({ error: { code: 'forbidden' } });
    }
    expect(await api.queues.imports.isPaused()).toBe(false);
    expect(await api.queues.commands.isPaused()).toBe(false);
    expect(await api.queues.imports.getJobCounts('waiting')).toEqual({ waiting: 1 }); // none added, none cleaned
  });

  it('accepts the board\'s own requests: a same-origin JSON POST and a bodyless PUT, as its UI sends them', async () => {
    const sameOrigin = { 'Sec-Fetch-Site': 'same-origin', Origin: origin };
    const added = await app.request(`${origin}${addJob}`, {
      method: 'POST',
      headers: { ...admin, ...sameOrigin, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'added-from-the-board', data: {} }),
    });
    expect(added.status).toBe(200);
    expect((await api.queues.imports.getJobs(['waiting'])).map((job) => job.name)).toEqual(['added-from-the-board']);

    // The UI's pause: PUT, no body, no Content-Type (axios sends none without data), Content-Length 0.
    const paused = await app.request(`${origin}/admin/queues/api/queues/imports/pause`, { method: 'PUT', headers: { ...admin, ...sameOrigin, 'Content-Length': '0' } });
    expect(paused.status).toBe(200);
    expect(await api.queues.imports.isPaused()).toBe(true);

    // Clients that are not browsers (curl, scripts) send neither header.
    const resumed = await app.request(`${origin}/admin/queues/api/queues/imports/resume`, { method: 'PUT', headers: ADMIN });
    expect(resumed.status).toBe(200);
    expect(await api.queues.imports.isPaused()).toBe(false);
  });
});

/**
 * The board in a real browser (Debian's chromium through playwright-core), served by this process.
 * Without /usr/bin/chromium it is skipped, except in CI, where it must run.
 */
const skipBrowser = browserMissing('queue board');

describe.skipIf(skipBrowser)('the queue board in chromium', () => {
  let server: ServerType;
  let browser: Browser;
  let base: URL;
  /** The headers of every write that reached the service: what the browser really sent. */
  const writes: Headers[] = [];

  beforeAll(async () => {
    server = await new Promise<ServerType>((resolve) => {
      const fetch = (req: Request, env: unknown) => {
        if (req.method !== 'GET') writes.push(new Headers(req.headers));
        return app.fetch(req, env);
      };
      const s = serve({ fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
    });
    base = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  });

  /** A browser context holding the admin token as Basic credentials, as an operator's browser would after the prompt. */
  async function adminContext() {
    const context = await browser.newContext({ httpCredentials: { username: 'operator', password: adminToken } });
    const requests: URL[] = [];
    context.on('request', (request) => requests.push(new URL(request.url())));
    return { context, requests };
  }

  it('shows both queues and pauses one from its menu, requesting nothing from any other host', async () => {
    const { context, requests } = await adminContext();
    // Should a request to another host slip through, it is recorded, then cut: tests stay off the network.
    await context.route((url) => url.host !== base.host, (route) => route.abort());
    try {
      const page = await context.newPage();
      await page.goto(new URL('/admin/queues', base).href);
      const sidebar = page.locator('#bull-board-sidebar');
      await sidebar.getByRole('link', { name: 'commands' }).waitFor();
      await sidebar.getByRole('link', { name: 'imports' }).click();
      await page.getByRole('heading', { name: 'imports' }).waitFor();

      // Bull Board's own write (axios: PUT, no body, no Content-Type) passes the same-origin check.
      await page.locator('button[aria-haspopup="menu"]').last().click(); // the queue's ⋮ menu
      await page.getByRole('menuitem', { name: 'Pause' }).click();
      await page.getByRole('button', { name: 'Confirm' }).click();
      await expect.poll(() => api.queues.imports.isPaused()).toBe(true);

      // Its JSON write too, sent from the page as its axios client sends it.
      const status = await page.evaluate(async () => {
        const res = await fetch('api/queues/imports/add', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'from-the-page', data: {} }) });
        return res.status;
      });
      expect(status).toBe(200);
      expect((await api.queues.imports.getJobs(['waiting'])).map((job) => job.name)).toEqual(['from-the-page']);

      expect(requests.length).toBeGreaterThan(5);
      expect(requests.filter((url) => url.host !== base.host).map(String), 'requests to other hosts').toEqual([]);
    } finally {
      await context.close();
    }
  }, 60_000);

  it('refuses another site\'s form POST even though the browser sends the cached admin credentials', async () => {
    const { context } = await adminContext();
    // The attacker's page, on a host of its own (served by the test, never fetched).
    const attacker = 'http://attacker.test/';
    const addJob = new URL('/admin/queues/api/queues/imports/add', base).href;
    await context.route(attacker, (route) =>
      route.fulfill({
        contentType: 'text/html',
        body: `<form method="post" enctype="text/plain" action="${addJob}"><input name='{"name":"forged","data":{},"x":"' value='"}'></form>`,
      }),
    );
    try {
      const page = await context.newPage();
      // The operator used the board in this browser earlier: the credentials are cached.
      await page.goto(new URL('/admin/queues', base).href);
      await page.locator('#bull-board-sidebar').getByRole('link', { name: 'imports' }).waitFor();

      await page.goto(attacker);
      const [response] = await Promise.all([page.waitForResponse(addJob), page.evaluate(() => document.forms[0]!.submit())]);
      expect(response.status()).toBe(403);
      const sent = writes.at(-1)!;
      expect([sent.get('content-type'), sent.get('sec-fetch-site'), sent.get('origin')]).toEqual(['text/plain', 'cross-site', 'http://attacker.test']);
      expect(sent.get('authorization')).toBe(basic(adminToken).Authorization);
      expect(await response.json()).toMatchObject({ error: { code: 'forbidden' } });
      expect(await api.queues.imports.getJobCounts('waiting')).toEqual({ waiting: 0 });
    } finally {
      await context.close();
    }
  }, 60_000);
});
