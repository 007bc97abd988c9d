import type { ChangeKind } from '../domain/enrollment.js';

export type { ChangeKind };

/** Every kind of change, in the order of CONTRACT §6. */
export const CHANGE_KINDS = [
  'student_created',
  'student_renamed',
  'student_email_changed',
  'enrollment_created',
  'enrollment_activated',
  'enrollment_deactivated',
] as const satisfies readonly ChangeKind[];

/**
 * One change as it is stored (`changes`, or `planned_changes` for a preview). Students are named
 * by id, courses by id; `email` / `course_name` only where the id does not exist yet (a preview
 * of a student or course that would be created). `before`/`after` are text: a name, an email, or
 * `true`/`false` for an enrollment.
 */
export type ChangeRow = {
  kind: ChangeKind;
  studentId: number | null;
  courseId: number | null;
  email: string | null;
  courseName: string | null;
  before: string | null;
  after: string | null;
  line: number | null;
  /** The order of the changes of one line (see `Change.ord`). */
  ord: number;
};

/** A change as the API shows it (CONTRACT §6). */
export type ChangeView = {
  seq: number;
  kind: ChangeKind;
  student_id: number | null;
  email: string | null;
  course_id: number | null;
  course_name: string | null;
  before: string | boolean | null;
  after: string | boolean | null;
  line: number | null;
};

/** A change of a student's history: the change, the job that made it, and when. */
export type HistoryItemView = Omit<ChangeView, 'seq'> & { job_id: string; job_type: string; at: string };

const isEnrollmentKind = (kind: ChangeKind) => kind.startsWith('enrollment_');

/** `before`/`after` as the API shows them: names and emails as text, enrollments' `active` as booleans. */
export function valueOf(kind: ChangeKind, stored: string | null): string | boolean | null {
  if (stored === null) return null;
  return isEnrollmentKind(kind) ? stored === 'true' : stored;
}
