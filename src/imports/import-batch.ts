import type pg from 'pg';
import { addCounts, countApplied, countInvalid, zeroCounts, type Counts } from '../domain/counts.js';
import { applyCommand, type EnrollmentCommand } from '../domain/enrollment.js';
import { loadRoster, writeRoster } from '../db/roster.repository.js';
import type { ImportRow, RowError } from './import-rows.js';
import {
  countUnsharedRows,
  createMissingCourses,
  dropImportPlan,
  planRows,
  sharedLines,
  stageRows,
  writeUnsharedRows,
  type StagedRow,
} from './import-plan.repository.js';

/** What one batch did: its counts and its row errors, in file order. */
export type BatchOutcome = { counts: Counts; errors: RowError[] };

/**
 * Applies a batch of rows, inside the caller's apply transaction, with the result of applying
 * them one by one in file order (CONTRACT §2). PostgreSQL compares and writes the rows whose
 * student appears once in the batch (set-based, see import-plan.repository.ts); the rows of a
 * student named several times are folded one by one over a roster loaded for them. Students
 * are independent of each other in an import, and the courses are created first for all rows,
 * so the two halves can run in either order.
 */
export async function applyImportBatch(client: pg.ClientBase, rows: readonly ImportRow[]): Promise<BatchOutcome> {
  let counts = zeroCounts();
  const errors: RowError[] = [];
  const staged: StagedRow[] = [];
  for (const row of rows) {
    if ('command' in row) staged.push(row);
    else {
      countInvalid(counts);
      for (const e of row.errors) errors.push(e);
    }
  }
  if (staged.length) {
    await stageRows(client, staged);
    await createMissingCourses(client);
    await planRows(client);
    const shared = await sharedLines(client);
    const unshared = await countUnsharedRows(client);
    await writeUnsharedRows(client, unshared.counts);
    await dropImportPlan(client);
    counts = addCounts(counts, unshared.counts);
    for (const line of unshared.nameRequiredLines) errors.push(nameRequired(line));
    if (shared.size) {
      const folded = await foldRows(client, staged.filter((row) => shared.has(row.line)));
      counts = addCounts(counts, folded.counts);
      for (const e of folded.errors) errors.push(e);
    }
  }
  // Stable: the errors of one line keep their order.
  errors.sort((a, b) => a.line - b.line);
  return { counts, errors };
}

const nameRequired = (line: number): RowError => ({ line, column: 'name', code: 'name_required', message: 'a new student needs a name', value: null });

/** Folds rows one by one, in file order, over a roster loaded for them, then writes what changed. */
async function foldRows(client: pg.ClientBase, rows: readonly StagedRow[]): Promise<BatchOutcome> {
  const commands: EnrollmentCommand[] = rows.map((row) => row.command);
  const roster = await loadRoster(client, commands);
  const counts = zeroCounts();
  const errors: RowError[] = [];
  for (const row of rows) {
    const outcome = applyCommand(roster, row.command);
    if (outcome.ok) countApplied(counts, outcome);
    else {
      countInvalid(counts);
      const value = outcome.error.column === 'name' ? (row.command.name ?? null) : null;
      errors.push({ line: row.line, column: outcome.error.column, code: outcome.error.code, message: outcome.error.message, value });
    }
  }
  // The roster is dropped after this write: the new enrollments' ids are not needed.
  await writeRoster(client, roster, { enrollmentIds: false });
  return { counts, errors };
}
