import type pg from 'pg';
import { query, type Orm } from '../db/orm.js';
import type { ChangeKind, ChangeRow } from './change.model.js';

/**
 * The history of CONTRACT §6. Creations live on the created row (`created_by` = the job's seq,
 * `created_line`); every other change is a row of `changes`, written by the same set-based
 * statements (or the same transaction) as the change itself. A job's list merges the two in the
 * order the changes were made: by line, then by `ord` within a line, the sweep (no line) last.
 */

/** Appends a job's changes (already in order) to `changes`, or to `planned_changes` for a preview. */
export async function insertChanges(client: pg.ClientBase, jobSeq: number, rows: readonly ChangeRow[], table: 'changes' | 'planned_changes' = 'changes'): Promise<void> {
  if (!rows.length) return;
  await client.query(
    `insert into ${table} (job_seq, kind, student_id, course_id, email, course_name, before, after, line, ord)
     select $1, * from unnest($2::text[], $3::bigint[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::text[], $9::int[], $10::int2[])`,
    [
      jobSeq,
      rows.map((r) => r.kind),
      rows.map((r) => r.studentId),
      rows.map((r) => r.courseId),
      rows.map((r) => r.email),
      rows.map((r) => r.courseName),
      rows.map((r) => r.before),
      rows.map((r) => r.after),
      rows.map((r) => r.line),
      rows.map((r) => r.ord),
    ],
  );
}

/** Where a page of a job's changes starts: after this (line, ord, tiebreak); `line: null` is the part without lines. */
export type ChangeCursor = { line: number | null; ord: number; tb: number };
export const FIRST_CHANGE: ChangeCursor = { line: 0, ord: -1, tb: 0 };

export type ChangeFilter = { kind?: ChangeKind; courseId?: number };

/** A stored change with the key it is ordered by. */
export type ChangeRecord = {
  line: number | null;
  ord: number;
  tb: string;
  kind: ChangeKind;
  student_id: string | null;
  course_id: string | null;
  email: string | null;
  course_name: string | null;
  before: string | null;
  after: string | null;
};

// The email and name a student (alias `s`) was created with: before its first change of each, if any.
const atCreation = (s: string, kind: 'student_email_changed' | 'student_renamed', column: 'email' | 'name') =>
  `coalesce((select c.before from changes c where c.student_id = ${s}.id and c.kind = '${kind}' order by c.seq limit 1), ${s}.${column})`;
const NAME_AT_CREATION = atCreation('s', 'student_renamed', 'name');

/**
 * One page of a job's changes after `from`, in order (at most `limit`). `previews`: the job's
 * planned changes (a dry run, a held sync) instead of what it did. The part with lines and the
 * part without (a sync's sweep, a revert) are read one after the other.
 */
export async function listJobChanges(
  orm: Orm,
  job: { seq: number; previews: boolean },
  from: ChangeCursor,
  limit: number,
  filter: ChangeFilter = {},
): Promise<ChangeRecord[]> {
  const rows = from.line === null ? [] : await changesWithLines(orm, job, from, limit, filter);
  if (rows.length >= limit) return rows;
  const rest = from.line === null ? from : { line: null, ord: -1, tb: 0 };
  return [...rows, ...(await changesWithoutLines(orm, job, rest, limit - rows.length, filter))];
}

function explicitWhere(filter: ChangeFilter, firstParam: number): { sql: string; values: unknown[] } {
  const parts: string[] = [];
  const values: unknown[] = [];
  if (filter.kind) parts.push(`kind = $${firstParam + values.push(filter.kind) - 1}`);
  if (filter.courseId !== undefined) parts.push(`course_id = $${firstParam + values.push(filter.courseId) - 1}`);
  return { sql: parts.map((p) => ` and ${p}`).join(''), values };
}

async function changesWithLines(orm: Orm, job: { seq: number; previews: boolean }, from: ChangeCursor, limit: number, filter: ChangeFilter) {
  const table = job.previews ? 'planned_changes' : 'changes';
  const where = explicitWhere(filter, 6);
  // Each branch reads at most a page in its index's order, so a page costs the same at the start
  // of a million changes as at their end; names are looked up for the page only.
  const branches = [
    `select line, ord, seq as tb, kind, student_id, course_id, email, course_name, before, after
       from ${table} where job_seq = $1 and (line, ord, seq) > ($2, $3, $4)${where.sql} order by line, ord, seq limit $5`,
  ];
  const wants = (kind: ChangeKind) => filter.kind === undefined || filter.kind === kind;
  if (!job.previews && wants('student_created') && filter.courseId === undefined) {
    branches.push(`select s.created_line, 0, s.id, 'student_created', s.id, null::bigint, null, null, null, null
       from students s where s.created_by = $1 and s.created_line >= $2 and (s.created_line > $2 or ($3 < 0) or ($3 = 0 and s.id > $4))
      order by s.created_line, s.id limit $5`);
  }
  if (!job.previews && wants('enrollment_created')) {
    const course = filter.courseId === undefined ? '' : ` and e.course_id = ${Number(filter.courseId)}`;
    branches.push(`select e.created_line, 3, e.id, 'enrollment_created', e.student_id, e.course_id, null, null, null, 'true'
       from course_enrollments e where e.created_by = $1 and e.created_line >= $2 and (e.created_line > $2 or ($3 < 3) or ($3 = 3 and e.id > $4))${course}
      order by e.created_line, e.id limit $5`);
  }
  return query<ChangeRecord>(
    orm,
    withNames(branches.length === 1 ? branches[0]! : `${branches.map((b) => `(${b})`).join('\n union all\n')} order by line, ord, tb limit $5`, 'line, ord, tb'),
    [job.seq, from.line, from.ord, from.tb, limit, ...where.values],
  );
}

async function changesWithoutLines(orm: Orm, job: { seq: number; previews: boolean }, from: ChangeCursor, limit: number, filter: ChangeFilter) {
  const table = job.previews ? 'planned_changes' : 'changes';
  const where = explicitWhere(filter, 5);
  return query<ChangeRecord>(
    orm,
    withNames(
      `select line, ord, seq as tb, kind, student_id, course_id, email, course_name, before, after
         from ${table} where job_seq = $1 and line is null and (ord, seq) > ($2, $3)${where.sql} order by ord, seq limit $4`,
      'ord, tb',
    ),
    [job.seq, from.ord, from.tb, limit, ...where.values],
  );
}

/**
 * Fills in the email and course name of a page of rows that name the student and course by id,
 * and the email and name a student recorded on its row was created with.
 */
const withNames = (page: string, order: string) => `
  select u.line, u.ord, u.tb, u.kind, u.student_id, u.course_id,
         coalesce(u.email, case when u.kind = 'student_created' then ${atCreation('st', 'student_email_changed', 'email')} else st.email end) as email,
         coalesce(u.course_name, co.name) as course_name, u.before,
         coalesce(u.after, case when u.kind = 'student_created' then ${atCreation('st', 'student_renamed', 'name')} end) as after
    from (${page}) u
    left join students st on st.id = u.student_id
    left join courses co on co.id = u.course_id and u.course_name is null
   order by ${order}`;

/** A change of one student's history, with its job and time; `key` orders the history (newest first). */
export type HistoryRecord = Omit<ChangeRecord, 'tb'> & { at: Date; job_id: string; job_type: string; key: HistoryKey };

/** The order of a history: time (microseconds), line (none last), ord, tiebreak; compared as a whole, descending. */
export type HistoryKey = [string, number, number, string];

/** Every change to a student and its enrollments whose job is still kept, newest first, before `before`. */
export async function studentHistory(orm: Orm, studentId: number, before: HistoryKey | null, limit: number): Promise<HistoryRecord[]> {
  const rows = await query<Omit<HistoryRecord, 'key'> & { at_us: string; line_key: number; tb: string }>(
    orm,
    `select * from (
       select h.line, h.ord, h.tb, h.kind, h.student_id, h.course_id, st.email, co.name as course_name, h.before, h.after, h.at,
              j.id as job_id, j.type as job_type,
              (extract(epoch from h.at) * 1000000)::int8 as at_us, coalesce(h.line, 2147483647) as line_key
         from (
           select c.line, c.ord, c.seq as tb, c.kind, c.student_id, c.course_id, c.before, c.after, c.at, c.job_seq
             from changes c where c.student_id = $1
           union all
           select s.created_line, 0, s.id, 'student_created', s.id, null, null, ${NAME_AT_CREATION}, s.created_at, s.created_by
             from students s where s.id = $1 and s.created_by is not null
           union all
           select e.created_line, 3, e.id, 'enrollment_created', e.student_id, e.course_id, null, 'true', e.created_at, e.created_by
             from course_enrollments e where e.student_id = $1 and e.created_by is not null
         ) h
         join jobs j on j.seq = h.job_seq
         join students st on st.id = h.student_id
         left join courses co on co.id = h.course_id) x
      where $2::int8 is null or (at_us, line_key, ord, tb) < ($2::int8, $3::int4, $4::int4, $5::int8)
      order by at_us desc, line_key desc, ord desc, tb desc
      limit $6`,
    [studentId, before?.[0] ?? null, before?.[1] ?? null, before?.[2] ?? null, before?.[3] ?? null, limit],
  );
  return rows.map(({ at_us, line_key, tb, ...r }) => ({ ...r, key: [at_us, line_key, r.ord, tb] }));
}
