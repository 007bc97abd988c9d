import type pg from 'pg';
import type { PageRequest } from '../http/pagination.js';

/** A course as `GET /courses` and `GET /courses/{id}` show it: its name and its size (active and inactive enrollments). */
export type CourseView = { id: number; name: string; created_at: string; size: { active: number; inactive: number } };

type RawCourse = { id: string; name: string; created_at: Date | string; active: number; inactive: number };

const toView = (r: RawCourse): CourseView => ({
  id: Number(r.id),
  name: r.name,
  created_at: new Date(r.created_at).toISOString(),
  size: { active: r.active, inactive: r.inactive },
});

// The size is counted per course of the page only (one index range each), never for every course.
const COURSE_COLUMNS = `c.id, c.name, c.created_at, sz.active, sz.inactive`;
const SIZE_LATERAL = `
  cross join lateral (
    select (count(*) filter (where e.active))::int as active, (count(*) filter (where not e.active))::int as inactive
      from course_enrollments e where e.course_id = c.id
  ) sz`;

/** The `like` pattern for "holds q", wildcards escaped. */
const contains = (q: string) => `%${q.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;

/**
 * One keyset page of courses in id order (`limit + 1` rows at most), those whose name holds `q`
 * (any case) when it is given. Courses are few next to students (a sequential match of their names
 * is fast), so no index serves `q`.
 */
export async function listCoursePage(client: pg.ClientBase, q: string | undefined, page: PageRequest): Promise<CourseView[]> {
  const params: unknown[] = [page.afterId];
  const where = ['c.id > $1'];
  if (q !== undefined) where.push(`c.name ilike $${params.push(contains(q))}`);
  params.push(page.limit + 1);
  const { rows } = await client.query<RawCourse>(
    `select ${COURSE_COLUMNS}
       from (select * from courses c where ${where.join(' and ')} order by c.id limit $${params.length}) c ${SIZE_LATERAL}
      order by c.id`,
    params,
  );
  return rows.map(toView);
}

/** One course with its size, or null. */
export async function findCourse(client: pg.ClientBase, id: number): Promise<CourseView | null> {
  const { rows } = await client.query<RawCourse>(`select ${COURSE_COLUMNS} from courses c ${SIZE_LATERAL} where c.id = $1`, [id]);
  return rows[0] ? toView(rows[0]) : null;
}
