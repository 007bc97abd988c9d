import type pg from 'pg';
import { countInvalid, zeroCounts, type Counts } from '../domain/counts.js';
import { applyCommand, type EnrollmentCommand } from '../domain/enrollment.js';
import { loadRoster, writeRoster } from '../db/roster.repository.js';
import type { ImportRow, RowError } from './import-rows.js';

/** What one batch did: its counts and its row errors, in file order. */
export type BatchOutcome = { counts: Counts; errors: RowError[] };

/**
 * Applies a batch of rows in file order, inside the caller's apply transaction: load the roster
 * the rows touch, fold the rows over it one by one (exactly the sequential meaning of CONTRACT
 * §2), write what changed. A row the rules refuse (a new student without a name) is a row error.
 */
export async function applyImportBatch(client: pg.ClientBase, rows: readonly ImportRow[]): Promise<BatchOutcome> {
  const commands: EnrollmentCommand[] = [];
  for (const row of rows) if ('command' in row) commands.push(row.command);
  const roster = await loadRoster(client, commands);
  const counts = zeroCounts();
  const errors: RowError[] = [];
  for (const row of rows) {
    if ('errors' in row) {
      countInvalid(counts);
      for (const e of row.errors) errors.push(e);
      continue;
    }
    const outcome = applyCommand(roster, row.command);
    if (outcome.ok) {
      // countApplied, unrolled: this runs once per row.
      const { effects } = outcome;
      counts.rows += 1;
      counts.valid += 1;
      counts.students_created += effects.students_created;
      counts.students_updated += effects.students_updated;
      counts.enrollments_created += effects.enrollments_created;
      counts.enrollments_activated += effects.enrollments_activated;
      counts.enrollments_deactivated += effects.enrollments_deactivated;
      if (outcome.unchanged) counts.unchanged += 1;
    } else {
      countInvalid(counts);
      const value = outcome.error.column === 'name' ? (row.command.name ?? null) : null;
      errors.push({ line: row.line, column: outcome.error.column, code: outcome.error.code, message: outcome.error.message, value });
    }
  }
  // The batch's roster is dropped after this write: the new enrollments' ids are not needed.
  await writeRoster(client, roster, { enrollmentIds: false });
  return { counts, errors };
}
