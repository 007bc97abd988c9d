import { Hono } from 'hono';
import type { ReadableStream } from 'node:stream/web';
import type { Deps } from '../../deps.js';
import { AppError } from '../../errors.js';
import { acceptImport, type ImportOptions } from '../../imports/import-accept.service.js';
import { multipartFile } from '../../imports/multipart.js';
import type { AppEnv } from '../context.js';
import { idempotencyKeyOf, sendAccepted } from '../write-request.js';

/** Content types taken as the CSV itself (clients label CSV in many ways). */
const RAW_TYPES = new Set(['text/csv', 'application/csv', 'text/plain', 'application/octet-stream', 'application/vnd.ms-excel']);
/** Slack for the multipart envelope (boundaries, part headers) over MAX_UPLOAD_BYTES. */
const MULTIPART_ENVELOPE_BYTES = 64 * 1024;

/** `POST /admin/imports`: streams a CSV roster into PostgreSQL and answers 202 with the import job. */
export function importRoutes(deps: Deps) {
  return new Hono<AppEnv>().post('/admin/imports', async (c) => {
    const options = parseImportOptions(c.req.query());
    const key = idempotencyKeyOf(c);
    const max = deps.config.maxUploadBytes;
    const contentType = (c.req.header('content-type') ?? 'text/csv').split(';')[0]!.trim().toLowerCase();
    const multipart = contentType === 'multipart/form-data';
    if (!multipart && !RAW_TYPES.has(contentType)) {
      throw new AppError('invalid', 'send the CSV as the body (Content-Type: text/csv) or as the multipart/form-data field "file"');
    }
    // A declared length over the limit is refused before anything is stored.
    const declared = Number(c.req.header('content-length') ?? NaN);
    if (declared > max + (multipart ? MULTIPART_ENVELOPE_BYTES : 0)) {
      throw new AppError('too_large', `the upload is larger than MAX_UPLOAD_BYTES (${max} bytes)`);
    }
    const body = c.req.raw.body as ReadableStream<Uint8Array> | null;
    const source: AsyncIterable<Uint8Array> = multipart ? multipartFile(body, c.req.header(), max) : (body ?? emptySource());
    return sendAccepted(c, await acceptImport(deps, { source, options, idempotencyKey: key }));
  });
}

/** `mode=set|add` (default set), `dry_run=true|false` (default false); anything else is a 400. */
export function parseImportOptions(query: Record<string, string>): ImportOptions {
  const mode = (query.mode ?? 'set').trim().toLowerCase();
  if (mode !== 'set' && mode !== 'add') throw new AppError('invalid', `mode must be set or add, not ${query.mode}`);
  const dry = (query.dry_run ?? 'false').trim().toLowerCase();
  if (!['true', 'false', '1', '0'].includes(dry)) throw new AppError('invalid', `dry_run must be true or false, not ${query.dry_run}`);
  return { mode, dryRun: dry === 'true' || dry === '1' };
}

async function* emptySource(): AsyncGenerator<Uint8Array> {}
