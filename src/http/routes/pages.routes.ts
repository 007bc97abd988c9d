import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hono, type Context } from 'hono';
import { compress } from 'hono/compress';
import { AppError } from '../errors.js';
import type { AppEnv } from '../context.js';

/** The admin page's files, and Swagger UI's, served by the service itself: no CDN on closed networks. */
// The project's public/ folder, whether this module runs from src/ (tsx) or from dist/src/ (compiled).
const PUBLIC_DIR = ['../../../public/', '../../../../public/'].map((p) => fileURLToPath(new URL(p, import.meta.url))).find((dir) => existsSync(dir))!;
const SWAGGER_DIR = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
/** The only Swagger UI files `/docs` needs (its page and initializer are ours, in public/). */
const SWAGGER_FILES = new Set(['swagger-ui.css', 'swagger-ui-bundle.js', 'favicon-16x16.png', 'favicon-32x32.png']);
/** File names the asset routes accept: one plain name, never a path, so nothing outside the folder. */
const ASSET_NAME = /^[\w-]+(\.[\w-]+)*\.(js|css|png|svg|ico)$/;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
};

/**
 * Same-origin only; Swagger UI sets inline styles and data: images. `connect-src 'self'` keeps
 * the pages (and anything injected into them) from sending a token anywhere else.
 */
const CSP = [
  "default-src 'self'",
  "img-src 'self' data:",
  "style-src 'self' 'unsafe-inline'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

type Cached = { body: Uint8Array<ArrayBuffer>; etag: string; type: string };

/**
 * `GET /` (the admin page), `GET /assets/{file}` (its script and styles), `GET /docs` (Swagger UI
 * on /openapi.json) and `GET /docs/{file}` (Swagger UI's assets from node_modules). No token: the
 * pages hold no data; the admin page asks for the token and sends it to the API itself.
 */
export function pageRoutes() {
  const cache = new Map<string, Cached>();
  const load = async (file: string): Promise<Cached> => {
    let hit = cache.get(file);
    if (!hit) {
      const body = new Uint8Array(await readFile(file));
      const etag = `"${createHash('sha1').update(body).digest('base64url')}"`;
      hit = { body, etag, type: TYPES[path.extname(file)] ?? 'application/octet-stream' };
      cache.set(file, hit);
    }
    return hit;
  };
  const send = async (c: Context<AppEnv>, file: string) => {
    const { body, etag, type } = await load(file).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') throw new AppError('not_found', `no file ${path.basename(file)}`);
      throw err;
    });
    // Revalidated on every load (cheap 304s), so a new deployment is picked up at once.
    const headers = { 'Content-Type': type, ETag: etag, 'Cache-Control': 'no-cache', 'X-Content-Type-Options': 'nosniff' };
    if (type.startsWith('text/html')) Object.assign(headers, { 'Content-Security-Policy': CSP, 'Referrer-Policy': 'no-referrer' });
    if (c.req.header('if-none-match') === etag) return c.body(null, 304, headers);
    return c.body(body, 200, headers);
  };
  const asset = (dir: string, allowed: (name: string) => boolean) => (c: Context<AppEnv>) => {
    const name = c.req.param('file') ?? '';
    if (!ASSET_NAME.test(name) || !allowed(name)) throw new AppError('not_found', `no file ${name}`);
    return send(c, path.join(dir, name));
  };

  return new Hono<AppEnv>()
    .get('/', (c) => send(c, path.join(PUBLIC_DIR, 'index.html')))
    .get('/assets/:file', compress(), asset(path.join(PUBLIC_DIR, 'assets'), () => true))
    .get('/docs', (c) => send(c, path.join(PUBLIC_DIR, 'docs.html')))
    .get('/docs/:file', compress(), asset(SWAGGER_DIR, (name) => SWAGGER_FILES.has(name)));
}
