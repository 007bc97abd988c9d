import { encodeCursor, pageOf, type Page } from '../http/pagination.js';

/** One of a student's enrollments, as the read API shows it. */
/** `source`: the feed of the last write that made it active or found it active (CONTRACT §2), null for a write by hand. */
export type EnrollmentView = { course_id: number; course_name: string; active: boolean; source: string | null };

/**
 * A student as the read API shows it (CONTRACT §4 "Reads"). `course_*` is the student's active
 * enrollment (the earliest-created when several are active; null when none). The team fields
 * are always null: teams were removed, and the fields stay for compatibility.
 */
export type StudentView = {
  id: number;
  name: string;
  email: string;
  course_id: number | null;
  course_name: string | null;
  enrollments: EnrollmentView[];
  team_id: null;
  team_name: null;
  team_number: null;
};

/** A student row as the read repository returns it, enrollments ordered earliest-created first. */
export type StudentRow = { id: number; name: string; email: string; enrollments: EnrollmentView[] };

/** The API shape of a student row. */
export function toStudentView(row: StudentRow): StudentView {
  // Enrollments arrive earliest-created first, so the first active one is the contract's `course_*`.
  const current = row.enrollments.find((e) => e.active) ?? null;
  return {
    id: row.id,
    name: row.name,
    email: row.email,
    course_id: current?.course_id ?? null,
    course_name: current?.course_name ?? null,
    enrollments: row.enrollments,
    team_id: null,
    team_name: null,
    team_number: null,
  };
}

/**
 * A page of student rows (fetched `limit + 1` at a time) in the API shape. `resumeAfter`: where a
 * bounded search stopped short of a full page (its next page starts after that id).
 */
export function studentPage(rows: StudentRow[], limit: number, resumeAfter: number | null = null): Page<StudentView> {
  const page = pageOf(rows, limit, (row) => row.id);
  const next = page.next_cursor ?? (resumeAfter === null ? null : encodeCursor(resumeAfter));
  return { items: page.items.map(toStudentView), next_cursor: next };
}
