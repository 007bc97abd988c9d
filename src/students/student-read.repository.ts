import type pg from 'pg';
import type { PageRequest } from '../http/pagination.js';
import type { EnrollmentView, StudentRow } from './student-view.js';

/**
 * The SQL of the read API. Each page is one statement: the students of the page, in id order,
 * each with all its enrollments aggregated by a lateral subquery (never one query per student).
 */

/** Which students a list shows. */
export type StudentScope =
  /** Every student; `hasActiveEnrollment` keeps those with (true) or without (false) an active enrollment. */
  | { kind: 'all'; email?: string; hasActiveEnrollment?: boolean }
  /** The students enrolled in one course (by id or by name), `active` filtering that enrollment. */
  | { kind: 'course'; course: { id: number } | { name: string }; active?: boolean; email?: string };

export type RawStudentRow = { id: string; name: string; email: string; enrollments: EnrollmentView[] };

/** The columns of a student row: `s` is the student, enrollments earliest-created first. */
export const STUDENT_COLUMNS = `
  s.id, s.name, s.email, coalesce(agg.enrollments, '[]'::json) as enrollments`;

export const ENROLLMENTS_LATERAL = `
  left join lateral (
    select json_agg(json_build_object('course_id', e.course_id, 'course_name', c.name, 'active', e.active, 'source', e.source)
                    order by e.created_at, e.id) as enrollments
      from course_enrollments e join courses c on c.id = e.course_id
     where e.student_id = s.id
  ) agg on true`;

export const toRow = (raw: RawStudentRow): StudentRow => ({
  id: Number(raw.id),
  name: raw.name,
  email: raw.email,
  enrollments: raw.enrollments,
});

/**
 * The SQL of a scope: `from` and its keyset column `key`; `walk`, the terms that choose the rows
 * the keyset walks (a course's enrollments, or every student), and `filters`, the terms that keep
 * some of them. `param` binds a parameter and names it.
 */
export type ScopeSql = { from: string; key: string; walk: string[]; filters: string[] };

export function scopeSql(scope: StudentScope, param: (value: unknown) => string): ScopeSql {
  const walk: string[] = [];
  const filters: string[] = [];
  let from: string;
  let key: string;
  if (scope.kind === 'course') {
    // Walk the course's enrollments in (course_id, student_id) order: the unique index serves
    // the filter, the keyset and the sort at once.
    from = 'course_enrollments m join students s on s.id = m.student_id';
    key = 'm.student_id';
    walk.push(
      'id' in scope.course
        ? `m.course_id = ${param(scope.course.id)}`
        : `m.course_id = (select id from courses where lower(name) = lower(${param(scope.course.name.trim())}))`,
    );
    if (scope.active !== undefined) filters.push(`m.active = ${param(scope.active)}`);
  } else {
    from = 'students s';
    key = 's.id';
    if (scope.hasActiveEnrollment !== undefined) {
      const negation = scope.hasActiveEnrollment ? '' : 'not ';
      filters.push(`${negation}exists (select 1 from course_enrollments a where a.student_id = s.id and a.active)`);
    }
  }
  if (scope.email !== undefined) filters.push(`lower(s.email) = lower(${param(scope.email.trim())})`);
  return { from, key, walk, filters };
}

/**
 * One keyset page of the students in `scope`: ids greater than `page.afterId`, in id order,
 * `page.limit + 1` rows at most (the extra row tells the caller there is a next page).
 */
export async function listStudentPage(client: pg.ClientBase, scope: StudentScope, page: PageRequest): Promise<StudentRow[]> {
  const params: unknown[] = [];
  const param = (value: unknown) => `$${params.push(value)}`;
  const { from, key, walk, filters } = scopeSql(scope, param);
  const where = [...walk, ...filters, `${key} > ${param(page.afterId)}`];

  const { rows } = await client.query<RawStudentRow>(
    `select ${STUDENT_COLUMNS}
       from ${from} ${ENROLLMENTS_LATERAL}
      where ${where.join(' and ')}
      order by ${key}
      limit ${param(page.limit + 1)}`,
    params,
  );
  return rows.map(toRow);
}
