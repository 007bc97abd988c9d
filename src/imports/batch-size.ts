/**
 * Rows per import batch, adapted to how fast batches apply: about TARGET_MS each, so that the
 * checkpoint, progress and cancellation move about twice a second, while a batch is as large as
 * that allows. Each batch pays a fixed cost (its statements' planning, its temporary tables, a
 * lookup per distinct course, its commit), so larger batches are cheaper per row. Measured here
 * on 1,000,000 rows (PostgreSQL's part only, two runs each): fresh 50.5–52.1 s with 10,000-row
 * batches against 50.8–52.9 s with 5,000, a re-run 16.6–17.6 s against 18.2–19.1 s. A fresh load
 * applies ~20,000 rows/s (batches settle near 10,000 rows), a re-run ~70,000 (batches reach the
 * cap). The cap bounds the parser thread's memory: 20,000-row batches were faster still (45.6–48.4
 * s fresh, 13.8–16.5 s again) but took the worker's peak RSS to 193–199 MiB in three bench runs,
 * against 176–190 MiB with 5,000.
 */
export const BATCH_ROWS = { first: 5_000, min: 1_000, max: 10_000 };
export const BATCH_TARGET_MS = 500;

export type BatchSizer = {
  /** The size the next batches should have. */
  size(): number;
  /** A batch of `rows` rows took `ms` to apply. */
  observe(rows: number, ms: number): void;
};

/** Adapts the batch size to the time batches take; with `fixed`, every batch has that size (tests). */
export function createBatchSizer(fixed?: number): BatchSizer {
  let size = fixed ?? BATCH_ROWS.first;
  return {
    size: () => size,
    observe(rows, ms) {
      if (fixed !== undefined || rows === 0) return;
      const ideal = (rows * BATCH_TARGET_MS) / Math.max(ms, 1);
      // At most halved or doubled at a time: one slow or fast batch does not swing it.
      size = Math.round(Math.min(BATCH_ROWS.max, Math.max(BATCH_ROWS.min, size / 2, Math.min(size * 2, ideal))));
    },
  };
}
