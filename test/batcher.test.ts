import { describe, expect, it } from 'vitest';
import { createBatcher } from '../src/async/batcher.js';

const tick = () => new Promise((r) => setImmediate(r));

describe('createBatcher (group commit)', () => {
  it('hands items added together to one flush, and each caller its own result', async () => {
    const calls: number[][] = [];
    const double = createBatcher<number, number>(async (xs) => (calls.push(xs), xs.map((x) => x * 2)), { maxInFlight: 1, maxBatch: 100 });
    expect(await Promise.all([double(1), double(2), double(3)])).toEqual([2, 4, 6]);
    expect(calls).toEqual([[1, 2, 3]]);
  });

  it('gathers what arrives while a batch is in flight into the next one, up to maxBatch', async () => {
    const calls: number[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const add = createBatcher<number>(async (xs) => { calls.push(xs); await gate; }, { maxInFlight: 1, maxBatch: 2 });
    const done = [add(1)];
    await tick();
    done.push(add(2), add(3), add(4));
    release();
    await Promise.all(done);
    expect(calls).toEqual([[1], [2, 3], [4]]);
  });

  it('rejects every item of a failed batch, and goes on with the next', async () => {
    let fail = true;
    const add = createBatcher<number>(async () => { if (fail) throw new Error('down'); }, { maxInFlight: 1, maxBatch: 10 });
    const failed = await Promise.allSettled([add(1), add(2)]);
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    await expect(add(3)).resolves.toBeUndefined();
  });
});
