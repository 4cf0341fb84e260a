import { describe, expect, it } from 'vitest';
import { kthSmallest } from '../../../src/quality/select.js';

/** A small deterministic generator, so a failure is reproducible. */
function numbers(n: number, seed: number, distinct: number): Float64Array {
  const out = new Float64Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1_103_515_245 + 12_345) % 2_147_483_648;
    out[i] = (x % distinct) / 7;
  }
  return out;
}

describe('kthSmallest', () => {
  it('returns what a sorted copy holds at k, for every k, on random, sorted, reversed and constant input', () => {
    const inputs = [
      numbers(257, 1, 1_000_000),
      numbers(300, 2, 5), // many equal values
      Float64Array.from({ length: 200 }, (_, i) => i),
      Float64Array.from({ length: 200 }, (_, i) => 200 - i),
      new Float64Array(64).fill(3.5),
      Float64Array.of(-2, 0, -0.5, 9, 1e-9),
    ];
    for (const input of inputs) {
      const sorted = Float64Array.from(input).sort();
      for (let k = 0; k < input.length; k++) expect(kthSmallest(Float64Array.from(input), k)).toBe(sorted[k]);
    }
  });

  it('works on a subarray without touching the rest of the buffer', () => {
    const all = Float64Array.of(100, 5, 3, 4, 1, 2, 100);
    expect(kthSmallest(all.subarray(1, 6), 2)).toBe(3);
    expect([all[0], all[6]]).toEqual([100, 100]);
  });

  it('refuses an index outside the array', () => {
    expect(() => kthSmallest(Float64Array.of(1, 2), 2)).toThrow(RangeError);
    expect(() => kthSmallest(new Float64Array(0), 0)).toThrow(RangeError);
  });
});
