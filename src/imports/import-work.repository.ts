import type pg from 'pg';
import copyStreams from 'pg-copy-streams';

/**
 * The work tables of one import, in the schema `import_work`, named after its job's seq: `stage` (the file's rows as COPYed),
 * `plan` (each row with what the database holds for it and what it will do) and `sweep` (a sync's
 * enrollments to deactivate). Unlogged: they are rebuilt from the stored file if PostgreSQL
 * crashes (which empties them), and they cost no WAL. They are dropped when the import finishes.
 */
export type WorkTables = { stage: string; plan: string; sweep: string };

/** The schema of the work tables, apart from the service's own tables. */
export const WORK_SCHEMA = 'import_work';

export const workTablesOf = (jobSeq: number): WorkTables => ({
  stage: `${WORK_SCHEMA}.stage_${jobSeq}`,
  plan: `${WORK_SCHEMA}.plan_${jobSeq}`,
  sweep: `${WORK_SCHEMA}.sweep_${jobSeq}`,
});

/**
 * Creates an empty stage table. `part` spreads the students over `parts` parts by their folded
 * email (every row of a student is in the same part), `ek` and `ck` are the folded email and course
 * name (PostgreSQL's lower(), the function of the unique indexes), all computed as rows are COPYed.
 * `valid = false`: a row invalid for another reason whose email and course are valid, which still
 * names its pair for a sync's sweep.
 */
export async function createStage(client: pg.ClientBase, t: WorkTables, parts: number): Promise<void> {
  await dropWorkTables(client, t);
  await client.query(`
    create unlogged table ${t.stage} (
      line int4 not null, email text not null, name text, course text not null, action text not null, valid boolean not null,
      ek text generated always as (lower(email)) stored,
      ck text generated always as (lower(course)) stored,
      part int4 generated always as (abs(hashtext(lower(email))) % ${Math.max(1, Math.floor(parts))}) stored)`);
}

/** COPYs staged rows (the UTF-8 text of a COPY: line, email, name, course, action, valid) into the stage table. */
export async function copyIntoStage(client: pg.ClientBase, t: WorkTables, copy: Uint8Array): Promise<void> {
  if (!copy.length) return;
  await new Promise<void>((resolve, reject) => {
    const stream = client.query(copyStreams.from(`copy ${t.stage} (line, email, name, course, action, valid) from stdin`));
    stream.on('finish', resolve);
    stream.on('error', reject);
    stream.end(copy);
  });
}

/** Analyzes the staged rows, so that the whole file's plan joins them with the roster as sets. */
export async function finishStage(client: pg.ClientBase, t: WorkTables): Promise<void> {
  await client.query(`analyze ${t.stage}`);
}

/**
 * Indexes the staged rows by part, for the parts planned again one by one (a command changed the
 * roster since the plan), the first time one is: an import that meets no command never needs it
 * (its plan reads whole ranges of parts, its parts are counted from partWork), and it cost 0.4 s
 * a million rows. Units that plan again at the same time build it once: the lock (self-exclusive,
 * and no obstacle to reading the stage) makes the second wait for the first's commit.
 */
export async function indexStage(client: pg.ClientBase, t: WorkTables): Promise<void> {
  const index = `${t.stage}_part_idx`;
  // Once it is built, the units that plan again do not queue behind each other for the lock.
  const { rows } = await client.query<{ exists: boolean }>(`select to_regclass($1) is not null as exists`, [index]);
  if (rows[0]!.exists) return;
  await client.query(`lock table ${t.stage} in share row exclusive mode`);
  await client.query(`create index if not exists ${index.slice(WORK_SCHEMA.length + 1)} on ${t.stage} (part)`);
}

/** How many rows the stage table holds, or null when it is gone (a crash of PostgreSQL empties unlogged tables; a restart of the import drops them). */
export async function stagedRows(client: pg.ClientBase, t: WorkTables): Promise<number | null> {
  const { rows } = await client.query<{ exists: boolean }>(`select to_regclass($1) is not null as exists`, [t.stage]);
  if (!rows[0]?.exists) return null;
  const count = await client.query<{ n: string }>(`select count(*) as n from ${t.stage}`);
  return Number(count.rows[0]!.n);
}

export async function dropWorkTables(client: pg.ClientBase, t: WorkTables): Promise<void> {
  await client.query(`drop table if exists ${t.stage}, ${t.plan}, ${t.sweep}`);
}

/**
 * Drops the work tables of imports and reverts that no longer run (finished, cancelled while held,
 * or gone with their job): an import drops its own when it ends, but not one ended by another hand.
 */
export async function dropStaleWorkTables(client: pg.ClientBase): Promise<number> {
  const { rows } = await client.query<{ name: string }>(
    `select t.tablename as name from pg_tables t
      where t.schemaname = $1
        and not exists (select 1 from jobs j where j.seq = substring(t.tablename from '_([0-9]+)$')::int8
                          and j.status in ('queued', 'running', 'awaiting_approval'))`,
    [WORK_SCHEMA],
  );
  for (const r of rows) await client.query(`drop table if exists ${WORK_SCHEMA}.${r.name}`);
  return rows.length;
}
