import type pg from 'pg';

/**
 * The roster's version: every transaction that writes students or enrollments outside an import
 * (a drain of commands, a revert) bumps it under the apply lock. An import plans its rows at a
 * version and applies a part from that plan only while the version is unchanged; otherwise it
 * plans the part again.
 */

/** Bumps the version, in the writing transaction. */
export async function bumpRosterVersion(client: pg.ClientBase): Promise<void> {
  await client.query(`insert into roster_version (version) values (1) on conflict (one_row) do update set version = roster_version.version + 1`);
}

/** The current version (0 before any write). */
export async function rosterVersion(client: pg.ClientBase): Promise<number> {
  const { rows } = await client.query<{ version: string }>(`select coalesce((select version from roster_version), 0) as version`);
  return Number(rows[0]!.version);
}
