import type pg from 'pg';
import { addCounts, countApplied, countInvalid, zeroCounts, type Counts } from '../domain/counts.js';
import { applyCommand } from '../domain/enrollment.js';
import { loadRoster, writeRoster } from '../commands/roster.repository.js';
import type { RowError } from './import-rows.js';
import {
  clearImportPlan,
  createMissingCourses,
  planRows,
  stageRows,
  stagedCommands,
  summarizePlan,
  writeUnsharedRows,
} from './import-plan.repository.js';
import type { StagedBatch } from './staged-batch.js';

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
export async function applyImportBatch(client: pg.ClientBase, batch: StagedBatch): Promise<BatchOutcome> {
  const invalid = batch.rows - batch.valid;
  let counts: Counts = { ...zeroCounts(), rows: invalid, invalid };
  const errors = [...batch.errors];
  if (batch.valid) {
    await stageRows(client, batch.copyText);
    await planRows(client);
    const plan = await summarizePlan(client);
    if (plan.missingCourses) await createMissingCourses(client);
    await writeUnsharedRows(client, plan.counts);
    counts = addCounts(counts, plan.counts);
    for (const line of plan.nameRequiredLines) errors.push(nameRequired(line));
    if (plan.sharedLines.length) {
      const folded = await foldRows(client, plan.sharedLines);
      counts = addCounts(counts, folded.counts);
      for (const e of folded.errors) errors.push(e);
    }
    await clearImportPlan(client);
  }
  // Stable: the errors of one line keep their order.
  errors.sort((a, b) => a.line - b.line);
  return { counts, errors };
}

const nameRequired = (line: number): RowError => ({ line, column: 'name', code: 'name_required', message: 'a new student needs a name', value: null });

/** Folds the staged rows of `lines` one by one, in file order, over a roster loaded for them, then writes what changed. */
async function foldRows(client: pg.ClientBase, lines: readonly number[]): Promise<BatchOutcome> {
  const rows = await stagedCommands(client, lines);
  const roster = await loadRoster(client, rows.map((row) => row.command));
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
