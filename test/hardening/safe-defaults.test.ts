import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/http/app.js';
import { ConfigError, DEV_TOKENS, loadConfig } from '../../src/process/config.js';
import type { Deps } from '../../src/process/deps.js';
import { startApi } from '../../src/process/server.js';
import { createTestDeps } from '../support/deps.js';
import { testConfig } from '../support/env.js';
import { freePort } from '../support/processes.js';

/** Issue 15 item 7: nothing is open by default. */

const REAL = { ADMIN_TOKEN: 'a-real-admin-token-0123456789', READ_TOKEN: 'a-real-read-token-0123456789' };

describe('tokens: one set means both must be', () => {
  it.each([
    [{ ADMIN_TOKEN: REAL.ADMIN_TOKEN }, 'READ_TOKEN'],
    [{ READ_TOKEN: REAL.READ_TOKEN }, 'ADMIN_TOKEN'],
  ])('refuses %o outside production too, naming the missing one', (env, missing) => {
    for (const NODE_ENV of ['development', 'test', 'production']) {
      expect(() => loadConfig({ NODE_ENV, ...env })).toThrow(ConfigError);
      expect(() => loadConfig({ NODE_ENV, ...env })).toThrow(new RegExp(missing));
    }
  });

  it('falls back to the development tokens only when neither is set', () => {
    expect(loadConfig({})).toMatchObject({ adminToken: DEV_TOKENS.admin, readToken: DEV_TOKENS.read, devTokens: true });
    expect(loadConfig(REAL)).toMatchObject({ devTokens: false });
  });
});

describe("tokens: the compose file's placeholders are refused in production", () => {
  const compose = readFileSync('docker-compose.yml', 'utf8');
  const placeholders = [...compose.matchAll(/\$\{(ADMIN_TOKEN|READ_TOKEN):-([^}]+)\}/g)].map((m) => [m[1]!, m[2]!] as const);

  it('the compose file has placeholders for both tokens', () => {
    expect(placeholders.map(([name]) => name).sort()).toEqual(['ADMIN_TOKEN', 'READ_TOKEN']);
  });

  it('refuses them in production, saying how to set real ones', () => {
    const env = Object.fromEntries(placeholders);
    expect(() => loadConfig({ NODE_ENV: 'production', ...env })).toThrow(/placeholder.*ADMIN_TOKEN|ADMIN_TOKEN.*placeholder/);
    expect(() => loadConfig({ NODE_ENV: 'production', ...env, ADMIN_TOKEN: REAL.ADMIN_TOKEN })).toThrow(/READ_TOKEN/);
    expect(() => loadConfig({ NODE_ENV: 'production', ...REAL })).not.toThrow();
  });
});

describe('docker-compose.yml publishes only the API', () => {
  const compose = readFileSync('docker-compose.yml', 'utf8');
  /** Each service's block of the file (two-space-indented names under `services:`). */
  const services = Object.fromEntries(
    compose
      .slice(compose.indexOf('\nservices:'))
      .split(/\n(?=  [\w-]+:\n)/)
      .slice(1)
      .map((block) => [/^ {2}([\w-]+):/.exec(block)![1]!, block.split(/\n(?=\S)/)[0]!]),
  );

  it('PostgreSQL and Redis have no published port', () => {
    expect(Object.keys(services)).toEqual(expect.arrayContaining(['postgres', 'redis', 'api', 'worker', 'migrate']));
    for (const name of ['postgres', 'redis', 'worker', 'migrate']) expect(services[name], name).not.toMatch(/^\s+ports:/m);
    expect(services.api).toMatch(/^\s+ports:/m);
  });
});

/** An address of this machine that is not loopback, or null (then the remote case cannot be tried). */
function nonLoopbackAddress(): string | null {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return null;
}

describe('development tokens work from loopback only', () => {
  let deps: Deps;
  let api: Awaited<ReturnType<typeof startApi>>;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    // No token set: the development fallback, as on a developer's machine.
    deps = await createTestDeps('api', testConfig({ ADMIN_TOKEN: '', READ_TOKEN: '', PORT: String(port) }));
    api = await startApi(deps);
  });
  afterAll(async () => {
    await api?.close();
    await deps?.close();
  });
  const get = (host: string, path: string, headers: Record<string, string>) =>
    fetch(`http://${host}:${port}${path}`, { headers }).then(async (r) => ({ status: r.status, body: await r.text() }));
  const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

  it('from 127.0.0.1 both development tokens work', async () => {
    expect((await get('127.0.0.1', '/api/v1/jobs?limit=1', bearer(DEV_TOKENS.read))).status).toBe(200);
    expect((await get('127.0.0.1', '/api/v1/jobs?limit=1', bearer(DEV_TOKENS.admin))).status).toBe(200);
  });

  it('from another interface they are 401, whatever X-Forwarded-For says', async (ctx) => {
    const remote = nonLoopbackAddress();
    if (!remote) return ctx.skip();
    for (const token of [DEV_TOKENS.admin, DEV_TOKENS.read]) {
      const res = await get(remote, '/api/v1/jobs?limit=1', { ...bearer(token), 'X-Forwarded-For': '127.0.0.1', 'X-Real-IP': '127.0.0.1' });
      expect(res.status).toBe(401);
      expect(JSON.parse(res.body)).toMatchObject({ error: { code: 'unauthorized', message: expect.stringMatching(/loopback/) } });
    }
    // The queue board's Basic credentials are the same token.
    const basic = `Basic ${Buffer.from(`ops:${DEV_TOKENS.admin}`).toString('base64')}`;
    expect((await get(remote, '/admin/queues', { Authorization: basic })).status).toBe(401);
    expect((await get('127.0.0.1', '/admin/queues', { Authorization: basic })).status).toBe(200);
  });

  it('without a connection at all (app.request) they are refused', async () => {
    const res = await createApp(deps).request('/api/v1/jobs?limit=1', { headers: bearer(DEV_TOKENS.admin) });
    expect(res.status).toBe(401);
  });
});
