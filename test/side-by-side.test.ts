import { describe, expect, it } from 'vitest';
import { sideBySide } from '../src/async/side-by-side.js';

/** The pool that runs an import's units and a revert's chunks `IMPORT_WRITERS` at a time. */
describe('sideBySide', () => {
  const tick = () => new Promise((r) => setTimeout(r, 1));

  it('runs every task in order, at most `width` at once, and returns null', async () => {
    let running = 0;
    let most = 0;
    const started: number[] = [];
    const result = await sideBySide([1, 2, 3, 4, 5], 2, async (n) => {
      started.push(n);
      most = Math.max(most, ++running);
      await tick();
      running--;
      return null;
    });
    expect({ result, started, most }).toEqual({ result: null, started: [1, 2, 3, 4, 5], most: 2 });
  });

  it('a stop starts nothing after it, lets the running task finish, and is returned', async () => {
    const finished: number[] = [];
    const result = await sideBySide([1, 2, 3, 4], 2, async (n) => {
      await tick();
      finished.push(n);
      return n === 1 ? 'stop' : null;
    });
    expect(result).toBe('stop');
    expect(finished.sort()).toEqual([1, 2]);
  });

  it('an error is thrown once the running tasks have finished', async () => {
    const finished: number[] = [];
    const run = sideBySide([1, 2, 3], 2, async (n) => {
      if (n === 1) throw new Error('boom');
      await tick();
      finished.push(n);
      return null;
    });
    await expect(run).rejects.toThrow('boom');
    expect(finished).toEqual([2]);
  });
});
