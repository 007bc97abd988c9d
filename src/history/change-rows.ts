import type { Change } from '../domain/enrollment.js';
import type { ChangeRow } from './change.model.js';

/**
 * The rows that record a command's changes (CONTRACT §6), read once the roster is written (so that
 * new students and enrollments have their ids). Creations are left out unless `creations` is set:
 * a created row records its own creation (`created_by`); a preview, which creates nothing, lists them.
 */
export function changeRowsOf(changes: readonly Change[], line: number | null, opts: { creations: boolean }): ChangeRow[] {
  const rows: ChangeRow[] = [];
  for (const c of changes) {
    if (!opts.creations && (c.kind === 'student_created' || c.kind === 'enrollment_created')) continue;
    if ('student' in c) {
      const id = c.student.id;
      rows.push({ kind: c.kind, studentId: id, courseId: null, email: id === null ? c.student.email : null, courseName: null, before: c.before, after: c.after, line, ord: c.ord });
    } else {
      const { student, course } = c.enrollment;
      rows.push({
        kind: c.kind,
        studentId: student.id,
        courseId: course.id,
        email: student.id === null ? student.email : null,
        courseName: course.id === null ? course.name : null,
        before: c.before === null ? null : String(c.before),
        after: String(c.after),
        line,
        ord: c.ord,
      });
    }
  }
  return rows;
}
