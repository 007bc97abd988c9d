import type pg from 'pg';
import { countApplied, countInvalid, zeroCounts, type Counts } from '../domain/counts.js';
import { applyCommand, type EnrollmentCommand } from '../domain/enrollment.js';
import { loadRoster, writeRoster } from '../commands/roster.repository.js';
import { changeRowsOf } from '../history/change-rows.js';
import type { ChangeRow } from '../history/change.model.js';
import type { JobRowError } from '../jobs/job.model.js';
import { foldedRows } from './import-plan.repository.js';
import type { WorkTables } from './import-work.repository.js';

/** What folding the rows of some students did (or would do). */
export type FoldOutcome = {
  rows: number;
  counts: Counts;
  errors: JobRowError[];
  /** Their changes in file order: creations included when nothing was written (a preview). */
  changes: ChangeRow[];
  /** Stored enrollments the rows deactivate (a sync's sweep leaves them to the rows). */
  deactivated: number[];
};

/**
 * The rows of the students the plan leaves to the domain (named several times, with a `set`),
 * folded one by one in file order over a roster loaded for them (CONTRACT §2): `write` writes what
 * changed and records it, else nothing is written (a plan, a preview). The courses they create
 * exist already when writing (the import creates them first), so ids follow the file's order.
 */
export async function foldStudents(
  client: pg.ClientBase,
  t: WorkTables,
  parts: number[] | null,
  job: { seq: number; source: string | null },
  opts: { write: boolean },
): Promise<FoldOutcome> {
  const rows = await foldedRows(client, t, parts);
  const outcome: FoldOutcome = { rows: rows.length, counts: zeroCounts(), errors: [], changes: [], deactivated: [] };
  if (!rows.length) return outcome;
  const commands = rows.map(({ line, email, name, course, action }) => {
    const command: EnrollmentCommand = { student: { email }, courseName: course, action };
    if (name !== null) command.name = name;
    if (job.source !== null) command.source = job.source;
    return { line, command };
  });
  const roster = await loadRoster(client, commands.map((c) => c.command));
  const applied = commands.map(({ line, command }) => {
    const result = applyCommand(roster, command, { job: job.seq, line });
    if (result.ok) countApplied(outcome.counts, result);
    else {
      countInvalid(outcome.counts);
      const value = result.error.column === 'name' ? (command.name ?? null) : null;
      outcome.errors.push({ line, column: result.error.column, code: result.error.code, message: result.error.message, value });
    }
    return { line, result };
  });
  for (const enrollments of roster.enrollmentsByStudent.values()) {
    for (const e of enrollments.values()) if (e.storedActive === true && !e.active && e.id !== null) outcome.deactivated.push(e.id);
  }
  if (opts.write) await writeRoster(client, roster, { enrollmentIds: false });
  for (const { line, result } of applied) if (result.ok) outcome.changes.push(...changeRowsOf(result.changes, line, { creations: !opts.write }));
  return outcome;
}
