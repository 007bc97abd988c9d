import { Hono } from 'hono';
import type { AppEnv } from '../context.js';
import { buildOpenApiDocument } from './document.js';

export { buildOpenApiDocument } from './document.js';

/** `GET /openapi.json`: the OpenAPI 3.1 document, built once from the request schemas. No token. */
export function openApiRoutes() {
  let json: string | undefined;
  return new Hono<AppEnv>().get('/openapi.json', (c) => {
    json ??= JSON.stringify(buildOpenApiDocument());
    return c.body(json, 200, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-cache' });
  });
}
