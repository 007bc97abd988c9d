import { Hono } from 'hono';
import { z } from 'zod';
import type { ReadableStream } from 'node:stream/web';
import type { Deps } from '../../process/deps.js';
import { AppError } from '../errors.js';
import { acceptImport } from '../../imports/import-accept.service.js';
import type { ImportOptions } from '../../jobs/job.model.js';
import { multipartFile } from '../../imports/multipart.js';
import type { AppEnv } from '../context.js';
import { parseParams } from '../pagination.js';
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

/** The query options of `POST /admin/imports`; their values match case-insensitively after trimming. */
export const importQuery = z.object({
  mode: z.enum(['set', 'add']).default('set').meta({ description: 'The action of rows without an `action` column.' }),
  dry_run: z.enum(['true', 'false', '1', '0']).default('false').meta({ description: 'Report what would change, change nothing.' }),
});

/**
 * `mode=set|add` (default set), `dry_run=true|false` (default false); anything else is a 400, an
 * empty value too: `?mode=$MODE` with MODE unset must not run a `set`, which deactivates.
 */
export function parseImportOptions(query: Record<string, string>): ImportOptions {
  const given = Object.fromEntries(Object.entries(query).map(([name, value]) => [name, value.trim().toLowerCase()]));
  const q = parseParams(importQuery, given);
  return { mode: q.mode, dryRun: q.dry_run === 'true' || q.dry_run === '1' };
}

async function* emptySource(): AsyncGenerator<Uint8Array> {}
