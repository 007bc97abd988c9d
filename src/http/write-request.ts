import type { Context } from 'hono';
import { IncomingMessage } from 'node:http';
import type { z } from 'zod';
import { AppError } from './errors.js';
import type { AppEnv } from './context.js';
import type { Accepted } from '../jobs/accepted.js';
import { fingerprintOf, MAX_IDEMPOTENCY_KEY_LENGTH, type Idempotency } from '../jobs/idempotency.js';

/** The largest JSON write body: a batch of 10,000 commands is about 1.5 MB. */
export const MAX_JSON_BODY_BYTES = 16 * 1024 * 1024;

const tooLarge = () => new AppError('too_large', `the body is larger than ${MAX_JSON_BODY_BYTES} bytes`);

/**
 * Deepest nesting of arrays and objects a write body may have (a batch is 3 deep). Deeper bodies
 * are refused before JSON.parse: 16 MiB of `[[[…` took seconds of the event loop to parse, and the
 * Idempotency-Key fingerprint (a recursive canonical JSON) overflowed the stack on it: a 500.
 */
export const MAX_JSON_DEPTH = 32;

/**
 * Parses a JSON body with a zod schema: malformed JSON or a bad field is a 400 naming the field,
 * a body over MAX_JSON_BODY_BYTES a 413 (refused on its Content-Length, or as soon as the bytes
 * streamed in pass the limit).
 */
export async function readJsonBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  if (Number(c.req.header('content-length')) > MAX_JSON_BODY_BYTES) throw tooLarge();
  const text = await readBodyText(c);
  if (nestedDeeperThan(text, MAX_JSON_DEPTH)) throw new AppError('invalid', `the body is nested deeper than ${MAX_JSON_DEPTH} levels`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new AppError('invalid', 'the body is not valid JSON');
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const details = parsed.error.issues.map((i) => ({ field: i.path.join('.') || null, message: i.message }));
    const first = details[0]!;
    throw new AppError('invalid', first.field ? `${first.field}: ${first.message}` : first.message, details);
  }
  return parsed.data;
}

/**
 * The body as text, at most MAX_JSON_BODY_BYTES. Under Node's HTTP server it is read straight
 * from the request stream: no web Request, stream or AbortSignal is built for it (the hot path of
 * every write), and reading stops at the limit.
 */
async function readBodyText(c: Context): Promise<string> {
  const incoming = (c.env as { incoming?: unknown } | undefined)?.incoming;
  if (!(incoming instanceof IncomingMessage)) {
    const bytes = new Uint8Array(await c.req.arrayBuffer());
    if (bytes.byteLength > MAX_JSON_BODY_BYTES) throw tooLarge();
    return new TextDecoder().decode(bytes);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_JSON_BODY_BYTES) return void chunks.push(chunk);
      done();
      incoming.pause();
      reject(tooLarge());
    };
    const onEnd = () => (done(), resolve());
    const onError = (err: Error) => (done(), reject(err));
    const onClose = () => (done(), reject(new AppError('invalid', 'the request body was cut short')));
    const done = () => incoming.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
    incoming.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
  return (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString('utf8');
}

/** Whether JSON `text` opens more than `max` arrays and objects at once (brackets inside strings do not count). */
function nestedDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c) i++; // backslash: skip the escaped character
      else if (ch === 0x22) inString = false;
    } else if (ch === 0x22) inString = true;
    else if (ch === 0x5b || ch === 0x7b) {
      if (++depth > max) return true;
    } else if (ch === 0x5d || ch === 0x7d) depth--;
  }
  return false;
}

/** The request's Idempotency-Key header (1 to 255 characters), or null without one. */
export function idempotencyKeyOf(c: Context): string | null {
  const key = c.req.header('idempotency-key');
  if (key === undefined) return null;
  if (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    throw new AppError('invalid', `Idempotency-Key must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`);
  }
  return key;
}

/** The request's Idempotency-Key with the fingerprint of what it asks, or null without one. */
export function idempotencyOf(c: Context, body: unknown): Idempotency | null {
  const key = idempotencyKeyOf(c);
  return key === null ? null : { key, fingerprint: fingerprintOf(c.req.method, c.req.path, body) };
}

/** Sends an accepted (or replayed) write. */
export function sendAccepted(c: Context<AppEnv>, accepted: Accepted) {
  c.set('jobId', accepted.body.job_id);
  return c.json(accepted.body, accepted.status);
}
