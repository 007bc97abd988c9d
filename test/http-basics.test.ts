import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Deps } from '../src/process/deps.js';
import { createApp } from '../src/http/app.js';
import { createTestDeps } from './support/deps.js';
import { ADMIN, READER, testConfig, itRedis, TEST_QUEUE_BACKEND } from './support/env.js';

let deps: Deps;
let app: ReturnType<typeof createApp>;
beforeAll(async () => {
  deps = await createTestDeps();
  app = createApp(deps);
});
afterAll(() => deps.close());

describe('health, readiness and metrics (no token)', () => {
  it('GET /healthz answers while the process is up', async () => {
    const res = await app.request('/healthz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('GET /readyz is 200 when what the deployment uses answers (PostgreSQL, and Redis on the Redis backend)', async () => {
    const res = await app.request('/readyz');
    expect(res.status).toBe(200);
    const checks = TEST_QUEUE_BACKEND === 'redis' ? { postgres: { ok: true }, redis: { ok: true } } : { postgres: { ok: true } };
    expect(await res.json()).toEqual({ status: 'ready', checks });
  });

  itRedis('GET /readyz is 503 naming Redis when Redis is down', async () => {
    // A port nothing listens on stands for a Redis that went away.
    const down = await createTestDeps('api', testConfig({ REDIS_URL: 'redis://127.0.0.1:1' }));
    try {
      const res = await createApp(down).request('/readyz');
      expect(res.status).toBe(503);
      const body = await res.json();
      expect(body).toMatchObject({ status: 'unavailable', checks: { postgres: { ok: true }, redis: { ok: false } } });
    } finally {
      await down.close();
    }
  });

  it('GET /metrics is Prometheus text', async () => {
    await app.request('/healthz');
    const res = await app.request('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/plain/);
    expect(await res.text()).toMatch(/enroll_http_request_duration_seconds_count\{.*route="\/healthz".*\} \d+/);
  });
});

describe('authentication (CONTRACT §4)', () => {
  const cases: Array<[string, string, Record<string, string>, number]> = [
    ['GET', 'no token', {}, 401],
    ['GET', 'unknown token', { Authorization: 'Bearer nope' }, 401],
    ['GET', 'malformed header', { Authorization: 'Basic abc' }, 401],
    ['GET', 'read token', READER, 404],
    ['GET', 'admin token', ADMIN, 404],
    ['POST', 'read token', READER, 403],
    ['POST', 'no token', {}, 401],
  ];
  it.each(cases)('%s with %s gets %i', async (method, _label, headers, status) => {
    const res = await app.request('/api/v1/students/teams', { method, headers });
    expect(res.status).toBe(status);
    const body = await res.json();
    expect(body.error.code).toBe({ 401: 'unauthorized', 403: 'forbidden', 404: 'not_found' }[status]);
    if (status === 401) expect(res.headers.get('www-authenticate')).toBe('Bearer');
  });
});

describe('error envelope', () => {
  it('an unknown route is a JSON 404, not an HTML page', async () => {
    const res = await app.request('/nowhere');
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect(await res.json()).toEqual({ error: { code: 'not_found', message: 'no route for GET /nowhere' } });
  });

  it('GET /api/v1/students/teams is 404 (removed)', async () => {
    const res = await app.request('/api/v1/students/teams', { headers: READER });
    expect(res.status).toBe(404);
  });

  it('every response carries a request id, and a sane given one is kept', async () => {
    const res = await app.request('/healthz', { headers: { 'X-Request-Id': 'abc-123' } });
    expect(res.headers.get('x-request-id')).toBe('abc-123');
    const other = await app.request('/healthz', { headers: { 'X-Request-Id': 'bad id with spaces' } });
    expect(other.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});
