/**
 * Rows per import batch, adapted to how fast batches apply: about BATCH_TARGET_MS each, so that
 * the checkpoint, progress and cancellation move about twice a second, while a batch is as large
 * as that allows (each batch pays a fixed cost: planning, temporary tables, its commit). The cap
 * bounds the parser thread's memory: larger batches were faster but took the worker past 190 MiB
 * (docs/performance.md).
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
