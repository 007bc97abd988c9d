import type { Applied } from './enrollment.js';

/** The counters of a job (CONTRACT §4); a single action counts as one row. */
export type Counts = {
  rows: number;
  valid: number;
  invalid: number;
  students_created: number;
  students_updated: number;
  enrollments_created: number;
  enrollments_activated: number;
  enrollments_deactivated: number;
  unchanged: number;
};

export function zeroCounts(): Counts {
  return {
    rows: 0,
    valid: 0,
    invalid: 0,
    students_created: 0,
    students_updated: 0,
    enrollments_created: 0,
    enrollments_activated: 0,
    enrollments_deactivated: 0,
    unchanged: 0,
  };
}

/** Counts one applied row: its effects, or `unchanged` when it had none. */
export function countApplied(counts: Counts, applied: Applied): void {
  counts.rows += 1;
  counts.valid += 1;
  for (const [k, v] of Object.entries(applied.effects) as Array<[keyof Applied['effects'], number]>) counts[k] += v;
  if (applied.unchanged) counts.unchanged += 1;
}

/** Counts one row that was skipped as invalid. */
export function countInvalid(counts: Counts): void {
  counts.rows += 1;
  counts.invalid += 1;
}

/** a + b, field by field (for checkpoints that add a batch to what came before). */
export function addCounts(a: Counts, b: Counts): Counts {
  const sum = zeroCounts();
  for (const k of Object.keys(sum) as Array<keyof Counts>) sum[k] = (a[k] ?? 0) + (b[k] ?? 0);
  return sum;
}
