import { z } from 'zod';
import type { EnrollmentCommand } from '../domain/enrollment.js';
import { SOURCE_KEY, SOURCE_RULE } from '../domain/source.js';
import { charLength, invalidCharacterMessage, isEmail, MAX_COURSE_NAME_LENGTH, MAX_NAME_LENGTH } from '../domain/validation.js';

/** zod schemas of the write bodies (CONTRACT §4), built on the same field rules as CSV rows. */

/**
 * A string that holds no character a text field may not hold (the rule CSV rows follow too),
 * checked before anything else so that nothing else looks at such a value.
 */
const text = (column: string) =>
  z.string().check((ctx) => {
    const message = invalidCharacterMessage(column, ctx.value);
    if (message) ctx.issues.push({ code: 'custom', message, input: ctx.value, continue: false });
  });

const email = text('email').trim().min(1, 'email is required').refine(isEmail, 'not an email address');
const name = text('name')
  .trim()
  .min(1, 'name must not be empty')
  .refine((s) => charLength(s) <= MAX_NAME_LENGTH, `name is longer than ${MAX_NAME_LENGTH} characters`)
  .meta({ maxLength: MAX_NAME_LENGTH }); // counted in characters, as JSON Schema does (not UTF-16 units)
const courseName = text('course_name')
  .trim()
  .min(1, 'course_name must not be empty')
  .refine((s) => charLength(s) <= MAX_COURSE_NAME_LENGTH, `course_name is longer than ${MAX_COURSE_NAME_LENGTH} characters`)
  .meta({ maxLength: MAX_COURSE_NAME_LENGTH });
const action = z.preprocess(
  (v) => (typeof v === 'string' ? v.trim().toLowerCase() : v),
  z.enum(['set', 'add', 'deactivate'], { error: 'action must be set, add or deactivate' }),
);
const studentId = z.number().int().positive();
/** The feed that sends the write (CONTRACT §2); absent for a write by hand. */
const source = z.string().regex(SOURCE_KEY, `source must be ${SOURCE_RULE}`).optional();
/** Legacy team fields: accepted and ignored. */
const team = { team_id: z.unknown().optional(), team_name: z.unknown().optional(), team_number: z.unknown().optional() };

export const enrollmentBody = z
  .object({ email: email.optional(), student_id: studentId.optional(), course_name: courseName, action: action.default('set'), name: name.optional(), source, ...team })
  .refine((b) => (b.email === undefined) !== (b.student_id === undefined), {
    message: 'give exactly one of email or student_id',
    path: ['email'],
  });
export type EnrollmentBody = z.infer<typeof enrollmentBody>;

export const MAX_BATCH = 10_000;
export const batchBody = z.object({
  commands: z.array(enrollmentBody).min(1, 'commands must not be empty').max(MAX_BATCH, `at most ${MAX_BATCH} commands`),
});

export const createStudentBody = z.object({ name, email, course_name: courseName, source, ...team });

export const updateStudentBody = z
  .object({ name: name.optional(), email: email.optional(), course_name: courseName.optional(), source, ...team })
  .refine((b) => b.name !== undefined || b.email !== undefined || b.course_name !== undefined, {
    message: 'give at least one of name, email or course_name',
  });

/** One enrollment body as a domain command. */
export function toCommand(b: EnrollmentBody): EnrollmentCommand {
  const cmd: EnrollmentCommand = {
    student: b.student_id !== undefined ? { id: b.student_id } : { email: b.email! },
    courseName: b.course_name,
    action: b.action,
  };
  if (b.name !== undefined) cmd.name = b.name;
  if (b.source !== undefined) cmd.source = b.source;
  return cmd;
}
