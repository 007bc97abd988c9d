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
 * active means `mode`). Enum values match case-insensitively after trimming.
 */
export function parseEnrollmentFields(raw: RawEnrollmentFields, mode: 'set' | 'add'): FieldsResult {
  const errors: FieldError[] = [];
  const email = raw.email?.trim() ?? '';
  const courseName = raw.course_name?.trim() ?? '';
  const name = raw.name?.trim() ?? '';

  if (!email) errors.push({ column: 'email', code: 'required', message: 'email is required', value: raw.email ?? null });
  else if (!isEmail(email)) errors.push({ column: 'email', code: 'invalid_email', message: `not an email address: ${email}`, value: raw.email ?? null });
  if (!courseName) errors.push({ column: 'course_name', code: 'required', message: 'course_name is required', value: raw.course_name ?? null });
  else if (charLength(courseName) > MAX_COURSE_NAME_LENGTH) errors.push({ column: 'course_name', code: 'too_long', message: `course_name is longer than ${MAX_COURSE_NAME_LENGTH} characters`, value: raw.course_name ?? null });
  if (charLength(name) > MAX_NAME_LENGTH) errors.push({ column: 'name', code: 'too_long', message: `name is longer than ${MAX_NAME_LENGTH} characters`, value: raw.name ?? null });

  const action = parseAction(raw, mode, errors);
  if (errors.length || !action) return { ok: false, errors };
  const command: EnrollmentCommand = { student: { email }, courseName, action };
  if (name) command.name = name;
  return { ok: true, command };
}

function parseAction(raw: RawEnrollmentFields, mode: 'set' | 'add', errors: FieldError[]): EnrollmentAction | null {
  const action = raw.action?.trim().toLowerCase() ?? '';
  const status = raw.status?.trim().toLowerCase() ?? '';
  let result: EnrollmentAction = mode;
  if (action) {
    if (action !== 'set' && action !== 'add' && action !== 'deactivate') {
      errors.push({ column: 'action', code: 'invalid_action', message: `action must be set, add or deactivate, not ${raw.action}`, value: raw.action ?? null });
      return null;
    }
    result = action;
  }
  if (status) {
    if (status === 'inactive' || status === 'deleted') return 'deactivate';
    if (status !== 'active') {
      errors.push({ column: 'status', code: 'invalid_status', message: `status must be active, inactive or deleted, not ${raw.status}`, value: raw.status ?? null });
      return null;
    }
  }
  return result;
}
