import { compileErrors, validate } from '@readme/openapi-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Deps } from '../src/process/deps.js';
import { MAX_COURSE_NAME_LENGTH } from '../src/domain/validation.js';
import { createApp } from '../src/http/app.js';
import { acceptedSchema, errorSchema, jobViewSchema, studentPageSchema } from '../src/http/openapi/schemas.js';
import { createTestDeps, truncateAll } from './support/deps.js';
import { ADMIN, READER } from './support/env.js';

/**
 * Routes that are not part of the API and so are not in the document: the pages and their
 * assets, the document itself, and Bull Board (an operator UI whose JSON API is Bull Board's own,
 * under /admin/queues). Anything else the app serves must be documented.
 */
const NOT_API = new Set(['GET /', 'GET /assets/{file}', 'GET /docs', 'GET /docs/{file}', 'GET /openapi.json']);
const notApi = (route: string) => NOT_API.has(route) || /^[A-Z]+ \/admin\/queues(\/|$)/.test(route);
const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

type Doc = { openapi: string; paths: Record<string, Record<string, any>>; components: Record<string, Record<string, any>> };

let deps: Deps;
let app: ReturnType<typeof createApp>;
let doc: Doc;
beforeAll(async () => {
  deps = await createTestDeps();
  await truncateAll(deps);
  app = createApp(deps);
  const res = await app.request('/openapi.json');
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  doc = (await res.json()) as Doc;
});
afterAll(() => deps.close());

/** `METHOD /path/{param}` of every route the Hono app serves (middleware left out). */
function servedRoutes(): Set<string> {
  return new Set(
    app.routes.filter((r) => r.method !== 'ALL').map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, '{$1}')}`),
  );
}

function documentedRoutes(): Set<string> {
  return new Set(Object.entries(doc.paths).flatMap(([path, item]) => METHODS.filter((m) => item[m]).map((m) => `${m.toUpperCase()} ${path}`)));
}

describe('GET /openapi.json: an OpenAPI 3.1 document of the whole API', () => {
  it('is served without a token and validates against the OpenAPI 3.1 schema', async () => {
    expect(doc.openapi).toBe('3.1.0');
    const result = await validate(structuredClone(doc) as any);
    expect(result.valid, result.valid ? '' : compileErrors(result)).toBe(true);
  });

  it('the validator does reject a broken document (so the check above can fail)', async () => {
    const broken = structuredClone(doc) as any;
    broken.paths['/api/v1/jobs/{id}'].get.responses = 'none';
    expect((await validate(broken)).valid).toBe(false);
  });

  it('documents exactly the routes the app serves: a route added without docs fails here', () => {
    const served = [...servedRoutes()].filter((r) => !notApi(r)).sort();
    const documented = [...documentedRoutes()].sort();
    expect(documented).toEqual(served);
    // The contract's routes are all there (guards against both lists losing one together).
    for (const route of [
      'POST /api/v1/admin/students', 'PUT /api/v1/admin/students/{id}', 'POST /api/v1/admin/enrollments',
      'POST /api/v1/admin/enrollments/batch', 'POST /api/v1/admin/imports', 'GET /api/v1/jobs/{id}',
      'GET /api/v1/jobs/{id}/errors', 'POST /api/v1/jobs/{id}/cancel', 'GET /api/v1/jobs/{id}/events',
      'GET /api/v1/students', 'GET /api/v1/students/{id}', 'GET /api/v1/courses/{id}/students',
      'GET /api/v1/admin/students/export.csv', 'GET /api/v1/students/teams', 'GET /healthz', 'GET /readyz', 'GET /metrics',
    ]) {
      expect(documented).toContain(route);
    }
  });

  it('takes its request schemas from the zod schemas that validate the requests', () => {
    const body = doc.paths['/api/v1/admin/enrollments']!.post.requestBody.content['application/json'].schema;
    expect(body.properties.course_name.maxLength).toBe(MAX_COURSE_NAME_LENGTH);
    expect(body.properties.action.enum).toEqual(['set', 'add', 'deactivate']);
    const batch = doc.paths['/api/v1/admin/enrollments/batch']!.post.requestBody.content['application/json'].schema;
    expect(batch.properties.commands.maxItems).toBe(10_000);
    const names = (path: string, method = 'get') => doc.paths[path]![method].parameters.map((p: { name: string }) => p.name).sort();
    expect(names('/api/v1/students')).toEqual(['active', 'course_name', 'cursor', 'email', 'limit', 'q']);
    expect(names('/api/v1/jobs/{id}/errors')).toEqual(['cursor', 'format', 'id', 'limit']);
    expect(names('/api/v1/admin/imports', 'post')).toEqual(['Idempotency-Key', 'dry_run', 'filename', 'max_deactivate', 'max_deactivate_percent', 'max_invalid_percent', 'mode', 'scope', 'source']);
    expect(Object.keys(doc.paths['/api/v1/admin/imports']!.post.requestBody.content)).toEqual(['text/csv', 'multipart/form-data']);
  });

  it('documents the bearer tokens, the Idempotency-Key of every write and the token-free operations', () => {
    expect(doc.components.securitySchemes).toMatchObject({ adminToken: { type: 'http', scheme: 'bearer' }, readToken: { type: 'http', scheme: 'bearer' } });
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const method of METHODS) {
        const op = item[method];
        if (!op) continue;
        const where = `${method.toUpperCase()} ${path}`;
        if (!path.startsWith('/api/v1')) expect(op.security, where).toEqual([]);
        else if (method === 'get') expect(op.security, where).toEqual([{ readToken: [] }, { adminToken: [] }]);
        else expect(op.security, where).toEqual([{ adminToken: [] }]);
        if (path.startsWith('/api/v1/admin') && method !== 'get') {
          expect(op.parameters.some((p: { in: string; name: string }) => p.in === 'header' && p.name === 'Idempotency-Key'), where).toBe(true);
          expect(op.responses['202'].content['application/json'].schema, where).toEqual({ $ref: '#/components/schemas/Accepted' });
        }
      }
    }
  });
});

describe('the documented response schemas match what the API answers', () => {
  it('202 Accepted, the Job, a student page and the error envelope', async () => {
    const post = await app.request('/api/v1/admin/enrollments', {
      method: 'POST',
      headers: { ...ADMIN, 'Content-Type': 'application/json' },
      body: JSON.stringify({ email: 'doc@uni.edu', name: 'Doc', course_name: 'Docs 101' }),
    });
    expect(post.status).toBe(202);
    const accepted = acceptedSchema.strict().parse(await post.json());
    const job = await app.request(`/api/v1/jobs/${accepted.job_id}`, { headers: READER });
    jobViewSchema.strict().parse(await job.json());
    const page = await app.request('/api/v1/students?limit=5', { headers: READER });
    studentPageSchema.strict().parse(await page.json());
    const denied = await app.request('/api/v1/students');
    expect(denied.status).toBe(401);
    errorSchema.strict().parse(await denied.json());
  });
});

describe('GET /docs: Swagger UI served by the service itself', () => {
  it('is an HTML page whose scripts and styles are all same-origin and load', async () => {
    const res = await app.request('/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
    const html = await res.text();
    const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThanOrEqual(3);
    for (const ref of refs) {
      expect(ref, 'no external URL').not.toMatch(/^(?:[a-z]+:)?\/\//i);
      const asset = await app.request(new URL(ref, 'http://service/docs').pathname);
      expect(asset.status, ref).toBe(200);
    }
    const init = await (await app.request('/assets/docs.js')).text();
    expect(init).toMatch(/openapi\.json/);
    expect(init).not.toMatch(/https?:\/\//);
  });

  it('serves only the files it knows: no path out of the asset folders', async () => {
    for (const path of ['/docs/package.json', '/docs/..%2Fpackage.json', '/assets/..%2F..%2Fpackage.json', '/assets/nope.js']) {
      expect((await app.request(path)).status, path).toBe(404);
    }
  });

  it('answers a revalidation with 304', async () => {
    const first = await app.request('/docs/swagger-ui.css');
    const etag = first.headers.get('etag');
    expect(etag).toBeTruthy();
    const again = await app.request('/docs/swagger-ui.css', { headers: { 'If-None-Match': etag! } });
    expect(again.status).toBe(304);
  });
});
