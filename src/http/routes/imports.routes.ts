import { Hono } from 'hono';
import { z } from 'zod';
import type { ReadableStream } from 'node:stream/web';
import type { Deps } from '../../process/deps.js';
import { AppError } from '../errors.js';
import { acceptImport } from '../../imports/import-accept.service.js';
import { SOURCE_KEY, SOURCE_RULE } from '../../domain/source.js';
import type { ImportOptions, SyncOptions } from '../../jobs/job.model.js';
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
    // A multipart part's own file name is the job's file_name unless `?filename=` gave one; it is
    // not part of the request's fingerprint, so a raw and a multipart upload stay the same request.
    let partName: string | null = null;
    const source: AsyncIterable<Uint8Array> = multipart ? multipartFile(body, c.req.header(), max, (name) => (partName = name)) : (body ?? emptySource());
    return sendAccepted(c, await acceptImport(deps, { source, options, idempotencyKey: key, uploadedFileName: () => partName }));
  });
}

const flag = z.enum(['true', 'false', '1', '0']);
const percent = z
  .string()
  .regex(/^\d{1,3}(\.\d{1,4})?$/, 'must be a number from 0 to 100')
  .transform(Number)
  .pipe(z.number().min(0).max(100, 'must be a number from 0 to 100'));

/**
 * The query options of `POST /admin/imports` (CONTRACT §4, §7). Mode, dry_run and scope match
 * case-insensitively after trimming; source is a key of CONTRACT §2; the file name is kept as given.
 */
export const importQuery = z
  .object({
    mode: z.enum(['set', 'add', 'sync']).default('set').meta({ description: 'The action of rows without an `action` column; `sync` makes the file the whole truth for its scope (CONTRACT §7).' }),
    dry_run: flag.default('false').meta({ description: 'Report what would change, change nothing.' }),
    source: z.string().regex(SOURCE_KEY, `must be ${SOURCE_RULE}`).optional().meta({ description: 'The feed that sends the file (CONTRACT §2).' }),
    filename: z.string().min(1).max(255).optional().meta({ description: "The file's name, shown as the job's `file_name` (a multipart upload's own name is used otherwise)." }),
    scope: z.enum(['courses', 'all']).optional().meta({ description: 'sync: the courses the file names (default), or every enrollment.' }),
    max_deactivate_percent: percent.optional().meta({ description: 'sync: hold above this percentage of the active enrollments in scope (default 10).' }),
    max_deactivate: z.string().regex(/^\d{1,12}$/, 'must be a whole number').transform(Number).optional().meta({ description: 'sync: hold above this many deactivations (default none).' }),
    max_invalid_percent: percent.optional().meta({ description: 'sync: hold above this percentage of invalid rows (default 10).' }),
  })
  .superRefine((q, ctx) => {
    if (q.mode === 'sync') return;
    for (const key of ['scope', 'max_deactivate_percent', 'max_deactivate', 'max_invalid_percent'] as const) {
      if (q[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: 'only for mode=sync' });
    }
  });

/** Options whose values are words, matched case-insensitively. */
const WORDS = new Set(['mode', 'dry_run', 'scope']);

/**
 * Parses the query options; anything else is a 400, an empty value too: `?mode=$MODE` with MODE
 * unset must not run a `set`, which deactivates.
 */
export function parseImportOptions(query: Record<string, string>): ImportOptions {
  const given = Object.fromEntries(Object.entries(query).map(([name, value]) => [name, WORDS.has(name) ? value.trim().toLowerCase() : value.trim()]));
  const q = parseParams(importQuery, given);
  const sync: SyncOptions | null =
    q.mode === 'sync'
      ? {
          scope: q.scope ?? 'courses',
          max_deactivate_percent: q.max_deactivate_percent ?? 10,
          max_deactivate: q.max_deactivate ?? null,
          max_invalid_percent: q.max_invalid_percent ?? 10,
        }
      : null;
  return { mode: q.mode, dryRun: q.dry_run === 'true' || q.dry_run === '1', source: q.source ?? null, fileName: q.filename ?? null, sync };
}

async function* emptySource(): AsyncGenerator<Uint8Array> {}
