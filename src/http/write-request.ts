import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { z } from 'zod';
import { AppError } from '../errors.js';
import { fingerprintOf, MAX_IDEMPOTENCY_KEY_LENGTH, type Accepted, type Idempotency } from '../jobs/accept.service.js';

/** The largest JSON write body: a batch of 10,000 commands is about 1.5 MB. */
export const MAX_JSON_BODY_BYTES = 16 * 1024 * 1024;

/** Refuses a larger JSON body with 413 before it is buffered (counts streamed bytes too). */
export const jsonBodyLimit = () =>
  bodyLimit({
    maxSize: MAX_JSON_BODY_BYTES,
    onError: () => {
      throw new AppError('too_large', `the body is larger than ${MAX_JSON_BODY_BYTES} bytes`);
    },
  });

/** Parses a JSON body with a zod schema: malformed JSON or a bad field is a 400 naming the field. */
export async function readJsonBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  let raw: unknown;
  try {
    raw = await c.req.json();
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
export const sendAccepted = (c: Context, accepted: Accepted) => c.json(accepted.body, accepted.status);
