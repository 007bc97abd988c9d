import type { EnrollmentAction, EnrollmentCommand } from './enrollment.js';

/**
 * Field rules shared by the HTTP API and CSV rows (CONTRACT §1, §3). Values are trimmed first;
 * every failure has a stable `code`, the column it concerns and a human message.
 */

export const MAX_NAME_LENGTH = 200;
export const MAX_EMAIL_LENGTH = 254;
export const MAX_COURSE_NAME_LENGTH = 500;

// Pragmatic: one @, no spaces, a dot in the domain. Real deliverability is not ours to judge.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@.]+$/;

export type FieldError = { column: string; code: string; message: string; value: string | null };

export const isEmail = (s: string): boolean => s.length <= MAX_EMAIL_LENGTH && EMAIL.test(s);

/**
 * What no text field may hold, in JSON bodies and CSV rows alike: the C0 control characters but
 * tab, line feed and carriage return (a quoted CSV field may hold a line break), DEL, the C1
 * controls, and unpaired UTF-16 surrogates. PostgreSQL refuses NUL and unpaired surrogates (one
 * such value failed every write group-committed with it); the others are never roster text.
 */
const INVALID_CHARACTER = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const INVALID_CHARACTERS = new RegExp(INVALID_CHARACTER.source, 'g');

/** Where the first character a text field must not hold is (a UTF-16 index), or -1. */
export const invalidCharacterAt = (s: string): number => s.search(INVALID_CHARACTER);

/** `column holds a control character (U+0000) at character 3`, or null when `s` is clean. */
export function invalidCharacterMessage(column: string, s: string): string | null {
  const at = invalidCharacterAt(s);
  if (at === -1) return null;
  const code = s.charCodeAt(at);
  const what = code >= 0xd800 && code <= 0xdfff ? 'an unpaired surrogate' : 'a control character';
  return `${column} holds ${what} (U+${code.toString(16).toUpperCase().padStart(4, '0')}) at character ${charLength(s.slice(0, at)) + 1}`;
}

/** Longest excerpt of a value quoted in a message: a message stays a line, whatever the value holds. */
export const MESSAGE_VALUE_CHARS = 80;

/**
 * A value fit for a message or a stored row error: at most `max` characters (then `…`), control
 * characters shown as their Unicode pictures (NUL as ␀), C1 controls and unpaired surrogates as
 * U+FFFD, so that PostgreSQL stores it and a terminal shows it harmlessly.
 */
export function printable(s: string, max: number): string {
  const cut = s.length > max ? `${s.slice(0, max)}…` : s;
  return cut.replace(INVALID_CHARACTERS, (c) => {
    const code = c.charCodeAt(0);
    if (code < 0x20) return String.fromCharCode(0x2400 + code);
    return code === 0x7f ? '\u2421' : '\ufffd';
  });
}

const quoted = (s: string) => printable(s, MESSAGE_VALUE_CHARS);

/** Length in characters (code points), as PostgreSQL's char_length counts: an emoji is one. */
export const charLength = (s: string): number => {
  let n = 0;
  for (const _ of s) n++;
  return n;
};

/** The raw text fields of one enrollment row, as read from a CSV line or a JSON body. */
export type RawEnrollmentFields = {
  email?: string | null;
  course_name?: string | null;
  name?: string | null;
  action?: string | null;
  status?: string | null;
};

export type FieldsResult = { ok: true; command: EnrollmentCommand } | { ok: false; errors: FieldError[] };

/**
 * Validates one row: `email` and `course_name` required, `name` optional (at most 200 characters),
 * `action` set|add|deactivate, `status` active|inactive|deleted (inactive/deleted mean deactivate,
 * active means `mode`). Enum values match case-insensitively after trimming. A field holding a
 * character no text may hold (see INVALID_CHARACTER) is `invalid_character`. Messages quote at most
 * MESSAGE_VALUE_CHARS of a value; `value` is the raw value (its stored form is the caller's).
 */
export function parseEnrollmentFields(raw: RawEnrollmentFields, mode: 'set' | 'add'): FieldsResult {
  const errors: FieldError[] = [];
  // A field with a character no text may hold gets that error alone: its value is not checked further.
  // (Nothing is allocated for a clean row: an import validates a million of them.)
  let bad: Set<string> | null = null;
  for (const column of TEXT_COLUMNS) {
    const value = raw[column];
    const message = value ? invalidCharacterMessage(column, value) : null;
    if (message) {
      errors.push({ column, code: 'invalid_character', message, value: value! });
      (bad ??= new Set()).add(column);
    }
  }
  const usable = (column: keyof RawEnrollmentFields) => (bad?.has(column) ? null : raw[column]);
  const email = usable('email')?.trim() ?? '';
  const courseName = usable('course_name')?.trim() ?? '';
  const name = usable('name')?.trim() ?? '';

  if (!bad?.has('email')) {
    if (!email) errors.push({ column: 'email', code: 'required', message: 'email is required', value: raw.email ?? null });
    else if (!isEmail(email)) errors.push({ column: 'email', code: 'invalid_email', message: `not an email address: ${quoted(email)}`, value: raw.email ?? null });
  }
  if (!bad?.has('course_name')) {
    if (!courseName) errors.push({ column: 'course_name', code: 'required', message: 'course_name is required', value: raw.course_name ?? null });
    else if (longerThan(courseName, MAX_COURSE_NAME_LENGTH)) errors.push({ column: 'course_name', code: 'too_long', message: `course_name is longer than ${MAX_COURSE_NAME_LENGTH} characters`, value: raw.course_name ?? null });
  }
  if (longerThan(name, MAX_NAME_LENGTH)) errors.push({ column: 'name', code: 'too_long', message: `name is longer than ${MAX_NAME_LENGTH} characters`, value: raw.name ?? null });

  const action = parseAction({ action: usable('action'), status: usable('status') }, mode, errors);
  if (errors.length || !action) return { ok: false, errors };
  const command: EnrollmentCommand = { student: { email }, courseName, action };
  if (name) command.name = name;
  return { ok: true, command };
}

/** More than `max` characters (code points): counted only when the UTF-16 length could be. */
const longerThan = (s: string, max: number) => s.length > max && charLength(s) > max;

const TEXT_COLUMNS = ['email', 'course_name', 'name', 'action', 'status'] as const;

function parseAction(raw: Pick<RawEnrollmentFields, 'action' | 'status'>, mode: 'set' | 'add', errors: FieldError[]): EnrollmentAction | null {
  const action = raw.action?.trim().toLowerCase() ?? '';
  const status = raw.status?.trim().toLowerCase() ?? '';
  let result: EnrollmentAction = mode;
  if (action) {
    if (action !== 'set' && action !== 'add' && action !== 'deactivate') {
      errors.push({ column: 'action', code: 'invalid_action', message: `action must be set, add or deactivate, not ${quoted(raw.action!)}`, value: raw.action ?? null });
      return null;
    }
    result = action;
  }
  if (status) {
    if (status === 'inactive' || status === 'deleted') return 'deactivate';
    if (status !== 'active') {
      errors.push({ column: 'status', code: 'invalid_status', message: `status must be active, inactive or deleted, not ${quoted(raw.status!)}`, value: raw.status ?? null });
      return null;
    }
  }
  return result;
}
