import { describe, expect, it } from 'vitest';
import { BATCH_ROWS, BATCH_TARGET_MS, createBatchSizer } from '../src/imports/batch-size.js';

describe('import batch size', () => {
  it('starts at the first size and moves toward batches of the target duration, at most doubling or halving at a time', () => {
    const sizer = createBatchSizer();
    expect(sizer.size()).toBe(BATCH_ROWS.first);
    // 5,000 rows in 400 ms: 6,250 would take the target.
    sizer.observe(5_000, 400);
    expect(sizer.size()).toBe((5_000 * BATCH_TARGET_MS) / 400);
    // Very fast: doubled at most, and never over the cap.
    sizer.observe(sizer.size(), 1);
    expect(sizer.size()).toBe(Math.min(BATCH_ROWS.max, 12_500));
    sizer.observe(sizer.size(), 1);
    expect(sizer.size()).toBe(BATCH_ROWS.max);
    // Very slow: halved at most, and never under the floor.
    sizer.observe(sizer.size(), 60_000);
    expect(sizer.size()).toBe(BATCH_ROWS.max / 2);
    for (let i = 0; i < 10; i++) sizer.observe(sizer.size(), 60_000);
    expect(sizer.size()).toBe(BATCH_ROWS.min);
  });

  it('settles where a batch takes the target duration', () => {
    const sizer = createBatchSizer();
    const rowsPerMs = 14; // 14,000 rows/s: batches of 7,000
    for (let i = 0; i < 10; i++) sizer.observe(sizer.size(), sizer.size() / rowsPerMs);
    expect(sizer.size()).toBe(rowsPerMs * BATCH_TARGET_MS);
  });

  it('keeps a fixed size whatever the batches take', () => {
    const sizer = createBatchSizer(3);
    sizer.observe(3, 10_000);
    sizer.observe(3, 0);
    expect(sizer.size()).toBe(3);
  });
});
