import { describe, expect, it } from 'vitest';
import { parseEnrollmentFields } from '../../src/domain/validation.js';

describe('row validation (CONTRACT §3)', () => {
  it('trims values and defaults the action to the mode', () => {
    expect(parseEnrollmentFields({ email: ' a@x.edu ', course_name: ' Art ', name: ' Ana ' }, 'add')).toEqual({
      ok: true,
      command: { student: { email: 'a@x.edu' }, courseName: 'Art', action: 'add', name: 'Ana' },
    });
  });

  it.each([
    [{ action: 'DEACTIVATE' }, 'deactivate'],
    [{ action: ' Add ' }, 'add'],
    [{ status: 'Inactive' }, 'deactivate'],
    [{ status: 'deleted' }, 'deactivate'],
    [{ status: 'ACTIVE' }, 'set'],
    [{ action: 'add', status: 'active' }, 'add'],
  ])('%o means %s', (extra, action) => {
    const r = parseEnrollmentFields({ email: 'a@x.edu', course_name: 'Art', ...extra }, 'set');
    expect(r).toMatchObject({ ok: true, command: { action } });
  });

  it.each([
    [{ email: 'not-an-email' }, 'email', 'invalid_email'],
    [{ email: '' }, 'email', 'required'],
    [{ course_name: '   ' }, 'course_name', 'required'],
    [{ name: 'x'.repeat(201) }, 'name', 'too_long'],
    [{ action: 'remove' }, 'action', 'invalid_action'],
    [{ status: 'paused' }, 'status', 'invalid_status'],
  ])('%o is rejected on %s with code %s', (bad, column, code) => {
    const r = parseEnrollmentFields({ email: 'a@x.edu', course_name: 'Art', ...bad }, 'set');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors).toContainEqual(expect.objectContaining({ column, code }));
  });

  it('a name of exactly 200 characters is fine, counting an emoji as one character', () => {
    expect(parseEnrollmentFields({ email: 'a@x.edu', course_name: 'Art', name: 'x'.repeat(200) }, 'set').ok).toBe(true);
    expect(parseEnrollmentFields({ email: 'a@x.edu', course_name: 'Art', name: '😀'.repeat(200) }, 'set').ok).toBe(true);
    expect(parseEnrollmentFields({ email: 'a@x.edu', course_name: 'Art', name: '😀'.repeat(201) }, 'set').ok).toBe(false);
  });
});
