import { describe, expect, it } from 'vitest';
import { planSlices } from '../../src/imports/import-plan.repository.js';

describe('the whole file is planned in slices of its parts', () => {
  it('covers every part exactly once, in ranges of about as many parts', () => {
    for (const parts of [1, 2, 3, 7, 200, 201]) {
      for (const writers of [1, 2, 3, 4, 8]) {
        const slices = planSlices(parts, writers);
        expect(slices.length).toBe(Math.min(parts, writers));
        const covered = slices.flatMap((s) => ('from' in s ? Array.from({ length: s.to - s.from }, (_, i) => s.from + i) : []));
        expect(covered).toEqual(Array.from({ length: parts }, (_, i) => i));
        const sizes = slices.map((s) => ('from' in s ? s.to - s.from : 0));
        expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      }
    }
  });
});
