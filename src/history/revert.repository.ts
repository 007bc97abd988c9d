import type pg from 'pg';
import { WORK_SCHEMA } from '../imports/import-work.repository.js';
import { byKeyProbes } from '../db/key-probes.js';

/**
 * The SQL of a revert (CONTRACT §6). The job to revert changed some values, each an "item": a
 * student's name or email, an enrollment's `active`. For each, its value before the job's first
 * change of it (the target; an enrollment it created: inactive) and after its last. A later job
 * that changed the same value again makes the item a conflict.
 */

export const revertTableOf = (revertSeq: number) => `${WORK_SCHEMA}.revert_${revertSeq}`;

/** The items of job `targetSeq`, in the order of the lines that changed them; returns how many. */
export async function planRevertItems(client: pg.ClientBase, table: string, targetSeq: number): Promise<number> {
  await client.query(`drop table if exists ${table}`);
  await client.query(
    `create unlogged table ${table} as
     with explicit as (
       select case when kind like 'enrollment_%' then 'active' when kind = 'student_renamed' then 'name' else 'email' end as attr,
              student_id, case when kind like 'enrollment_%' then course_id end as course_id,
              min(seq) as first_seq, (array_agg(before order by seq))[1] as before, (array_agg(after order by seq desc))[1] as after,
              (array_agg(line order by seq))[1] as line
         from changes where job_seq = $1 and kind <> 'student_created' and kind <> 'enrollment_created'
        group by 1, 2, 3),
     created as (
       select 'active' as attr, student_id, course_id, 0::int8 as first_seq, 'false' as before, 'true' as after, created_line as line
         from course_enrollments where created_by = $1)
     select row_number() over (order by coalesce(c.line, e.line), student_id, attr, course_id)::int8 as item,
            attr, student_id, course_id, coalesce(c.first_seq, e.first_seq) as first_seq,
            coalesce(c.before, e.before) as target, coalesce(e.after, c.after) as job_after, coalesce(c.line, e.line) as line,
            null::int8 as conflict_seq
       from explicit e full join created c using (attr, student_id, course_id)`,
    [targetSeq],
  );
  await client.query(`create index on ${table} (item)`);
  const { rows } = await client.query<{ n: string }>(`select count(*) as n from ${table}`);
  return Number(rows[0]!.n);
}

/** The changes of the same value made after the job's (`$1`) first one, by another job than it and its revert (`$2`). */
const LATER = (table: string) => `
  from ${table} i join changes c on c.student_id = i.student_id and c.seq > i.first_seq and c.job_seq <> $1 and c.job_seq <> $2
   and case i.attr when 'active' then c.kind like 'enrollment_%' and c.course_id = i.course_id
                   when 'name' then c.kind = 'student_renamed' else c.kind = 'student_email_changed' end`;

/** The jobs that changed some item again after the job (their seqs): few, usually none. */
export async function laterJobs(client: pg.ClientBase, table: string, targetSeq: number, revertSeq: number): Promise<number[]> {
  const { rows } = await client.query<{ job_seq: string }>(`select distinct c.job_seq ${LATER(table)}`, [targetSeq, revertSeq]);
  return rows.map((r) => Number(r.job_seq));
}

/** Marks each item changed again by a job not in `ignored` with the newest such change's job. */
export async function markConflicts(client: pg.ClientBase, table: string, targetSeq: number, revertSeq: number, ignored: number[]): Promise<void> {
  await client.query(
    `update ${table} t set conflict_seq = l.job_seq
       from (select distinct on (i.item) i.item, c.job_seq ${LATER(table)} and c.job_seq <> all($3::int8[]) order by i.item, c.seq desc) l
      where t.item = l.item`,
    [targetSeq, revertSeq, ignored],
  );
}

/** For the jobs `seqs`: their id, the job each reverts (if a revert), and the reverts of each that applied something. */
export async function revertGraph(client: pg.ClientBase, seqs: number[]): Promise<Array<{ seq: number; id: string; reverts: number | null; revertedBy: number[] }>> {
  const { rows } = await client.query<{ seq: string; id: string; reverts: string | null; reverted_by: string[] }>(
    `select j.seq, j.id, t.seq as reverts,
            coalesce(array(select r.seq from jobs r where r.reverts = j.id and r.payload->>'dry_run' <> 'true'
                             and (r.status not in ('failed', 'cancelled', 'queued') or r.processed > 0)), '{}') as reverted_by
       from jobs j left join jobs t on t.id = j.reverts where j.seq = any($1::int8[])`,
    [seqs],
  );
  return rows.map((r) => ({ seq: Number(r.seq), id: r.id, reverts: r.reverts === null ? null : Number(r.reverts), revertedBy: r.reverted_by.map(Number) }));
}

/**
 * Where the chunks of items after `after` end (their last item): every `size` items, or one more
 * when the next is the other value (name, email) of the same student and line, so that the two are
 * restored in one chunk (the student counts as updated once per line, CONTRACT §6).
 */
export async function chunkEnds(client: pg.ClientBase, table: string, after: number, size: number): Promise<number[]> {
  const { rows } = await client.query<{ end: string }>(
    `select i.item + case when n.item is null then 0 else 1 end as end
       from ${table} i left join ${table} n
         on n.item = i.item + 1 and i.attr <> 'active' and n.attr <> 'active' and n.student_id = i.student_id and n.line is not distinct from i.line
      where i.item > $1 and ((i.item - $1) % $2 = 0 or i.item = (select max(item) from ${table}))
      order by i.item`,
    [after, size],
  );
  const ends: number[] = [];
  for (const r of rows) if (Number(r.end) > (ends.at(-1) ?? after)) ends.push(Number(r.end));
  return ends;
}

/** The items after `after` up to `end` (in order), with the value each holds now. */
export type RevertItem = {
  item: number;
  attr: 'name' | 'email' | 'active';
  student_id: number;
  course_id: number | null;
  target: string;
  line: number | null;
  conflict_id: string | null;
  current: string | null;
  /** For an email to restore: whether another student holds it now. */
  email_taken: boolean;
};

export async function revertChunk(client: pg.ClientBase, table: string, after: number, end: number): Promise<RevertItem[]> {
  const { rows } = await client.query(
    `select i.item, i.attr, i.student_id, i.course_id, i.target, i.line, j.id as conflict_id,
            case i.attr when 'name' then s.name when 'email' then s.email else e.active::text end as current,
            i.attr = 'email' and exists (select 1 from students o where lower(o.email) = lower(i.target) and o.id <> i.student_id) as email_taken
       from ${table} i
       -- The student is read only for a name or an email (the fence keeps the test before the probe):
       -- most items are enrollments', a million of them for the revert of a fresh load.
       left join lateral (select name, email from students where id = i.student_id and i.attr <> 'active' offset 0) s on true
       left join course_enrollments e on i.attr = 'active' and e.student_id = i.student_id and e.course_id = i.course_id
       left join jobs j on j.seq = i.conflict_seq
      where i.item > $1 and i.item <= $2 order by i.item`,
    [after, end],
  );
  return rows.map((r) => ({ ...r, item: Number(r.item), student_id: Number(r.student_id), course_id: r.course_id === null ? null : Number(r.course_id) }));
}

/** Restores values: students' names and emails, enrollments' `active` (by student and course). */
export async function restoreValues(
  client: pg.ClientBase,
  values: { names: Array<[number, string]>; emails: Array<[number, string]>; active: Array<[number, number, boolean]> },
): Promise<void> {
  await byKeyProbes(client, async () => {
    if (values.names.length) {
      await client.query(`update students s set name = v.name, updated_at = now() from unnest($1::int8[], $2::text[]) as v(id, name) where s.id = v.id`, [
        values.names.map((v) => v[0]),
        values.names.map((v) => v[1]),
      ]);
    }
    if (values.emails.length) {
      await client.query(`update students s set email = v.email, updated_at = now() from unnest($1::int8[], $2::text[]) as v(id, email) where s.id = v.id`, [
        values.emails.map((v) => v[0]),
        values.emails.map((v) => v[1]),
      ]);
    }
    if (values.active.length) {
      await client.query(
        `update course_enrollments e set active = v.active, updated_at = now()
           from unnest($1::int8[], $2::int8[], $3::boolean[]) as v(student_id, course_id, active)
          where e.student_id = v.student_id and e.course_id = v.course_id`,
        [values.active.map((v) => v[0]), values.active.map((v) => v[1]), values.active.map((v) => v[2])],
      );
    }
  });
}
