import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Deps } from '../src/deps.js';
import { createApp, type App } from '../src/http/app.js';
import { createTestDeps } from './support/deps.js';
import { ADMIN, READER } from './support/env.js';

let api: Deps;
let app: App;

beforeAll(async () => {
  api = await createTestDeps('api');
  app = createApp(api);
});
afterAll(async () => {
  await Promise.all([api.queues.commands.obliterate({ force: true }), api.queues.imports.obliterate({ force: true })]);
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
