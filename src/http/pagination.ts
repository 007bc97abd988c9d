import { z } from 'zod';
import { invalidCharacterMessage } from '../domain/validation.js';
import { AppError } from './errors.js';

/** Page size when the caller gives no `limit`. */
export const DEFAULT_LIMIT = 50;
/** Largest page a caller may ask for. */
export const MAX_LIMIT = 1000;

/** Where a keyset page starts: after this id (exclusive), at most `limit` rows. */
export type PageRequest = { afterId: number; limit: number };

/** A page of items and the cursor of the next page (null on the last page). */
export type Page<T> = { items: T[]; next_cursor: string | null };

/** The opaque cursor of a keyset page: base64url of the last id the previous page returned. */
export function encodeCursor(lastId: number): string {
  return Buffer.from(String(lastId), 'utf8').toString('base64url');
}

/** The id an `encodeCursor` string stands for, or undefined when it is not one of ours. */
export function decodeCursor(cursor: string): number | undefined {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^(0|[1-9]\d{0,15})$/.test(text)) return undefined;
  const id = Number(text);
  // Buffer decoding is lenient; re-encoding rejects strings we would never have produced.
  return Number.isSafeInteger(id) && encodeCursor(id) === cursor ? id : undefined;
}

/** The opaque cursor of a page ordered by two keys: base64url of `a.b`. */
export function encodeKeyPair(a: number, b: number): string {
  return Buffer.from(`${a}.${b}`, 'utf8').toString('base64url');
}

/** The two keys an `encodeKeyPair` string stands for, or undefined when it is not one of ours. */
export function decodeKeyPair(cursor: string): [number, number] | undefined {
  const m = /^(0|[1-9]\d{0,14})\.(0|[1-9]\d{0,14})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m) return undefined;
  const pair: [number, number] = [Number(m[1]), Number(m[2])];
  return encodeKeyPair(...pair) === cursor ? pair : undefined;
}

/** `?cursor=` of a page ordered by two keys; absent means the first page ([0, 0]). */
export const keyPairCursorParam = z
  .string()
  .optional()
  .transform((cursor, ctx): [number, number] => {
    if (cursor === undefined) return [0, 0];
    const pair = decodeKeyPair(cursor);
    if (pair === undefined) {
      ctx.addIssue({ code: 'custom', message: 'is not a cursor this API returned' });
      return z.NEVER;
    }
    return pair;
  });

/** A positive integer written in decimal digits (path ids, limits): nothing else. */
export const positiveIntString = z
  .string()
  .regex(/^\d{1,15}$/, 'must be a positive integer')
  .transform(Number)
  .pipe(z.number().int().min(1, 'must be a positive integer'));

/** `?limit=`: 1 to MAX_LIMIT, default DEFAULT_LIMIT. */
export const limitParam = z
  .string()
  .regex(/^\d{1,15}$/, `must be an integer from 1 to ${MAX_LIMIT}`)
  .transform(Number)
  .pipe(z.number().int().min(1).max(MAX_LIMIT, `must be at most ${MAX_LIMIT}`))
  .default(DEFAULT_LIMIT);

/** `?cursor=`: an opaque cursor from a previous page's `next_cursor`; absent means the first page. */
export const cursorParam = z
  .string()
  .optional()
  .transform((cursor, ctx) => {
    if (cursor === undefined) return 0;
    const id = decodeCursor(cursor);
    if (id === undefined) {
      ctx.addIssue({ code: 'custom', message: 'is not a cursor this API returned' });
      return z.NEVER;
    }
    return id;
  });

/** `?active=true|false`, or absent. */
export const booleanParam = z
  .enum(['true', 'false'], { error: 'must be true or false' })
  .optional()
  .transform((v) => (v === undefined ? undefined : v === 'true'));

/** The query parameters of every paginated list: `cursor` and `limit`. */
export const pageParams = { cursor: cursorParam, limit: limitParam };

/** The `PageRequest` of parsed `cursor` and `limit` params. */
export function pageRequestOf(params: { cursor: number; limit: number }): PageRequest {
  return { afterId: params.cursor, limit: params.limit };
}

/**
 * Parses request input (query or path params) with a zod schema, or throws a 400 `invalid` whose
 * message names every bad parameter and whose details list them as `{field, message}`, the
 * shape of the write API's validation errors.
 */
export function parseParams<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  // A parameter holding a character no text may hold (a NUL reaching PostgreSQL is an error there) is refused first.
  const unclean = Object.entries(input && typeof input === 'object' ? input : {}).flatMap(([field, value]) => {
    const message = typeof value === 'string' ? invalidCharacterMessage(field, value) : null;
    return message ? [{ field, message }] : [];
  });
  if (unclean.length) throw new AppError('invalid', unclean.map((d) => d.message).join('; '), unclean);
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const details = result.error.issues.map((issue) => ({ field: issue.path.map(String).join('.'), message: issue.message }));
  throw new AppError('invalid', details.map((d) => `${d.field}: ${d.message}`).join('; '), details);
}

/**
 * Parses a query string's parameters like `parseParams`. An empty value (`?email=&limit=`)
 * means the parameter is absent, as in the contract's own `?email=&course_name=` notation.
 */
export function parseQuery<S extends z.ZodType>(schema: S, query: Record<string, string>): z.output<S> {
  const given = Object.fromEntries(Object.entries(query).filter(([, value]) => value.trim() !== ''));
  return parseParams(schema, given);
}

/**
 * Turns `limit + 1` rows fetched in id order into a page: the extra row, when present, only
 * proves there is a next page, whose cursor is the last id kept.
 */
export function pageOf<T>(rows: T[], limit: number, idOf: (row: T) => number): Page<T> {
  if (rows.length <= limit) return { items: rows, next_cursor: null };
  const items = rows.slice(0, limit);
  return { items, next_cursor: encodeCursor(idOf(items[items.length - 1]!)) };
}
