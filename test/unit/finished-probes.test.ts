import { describe, expect, it } from 'vitest';
import { FinishedProbes } from '../../src/net/icmp/finished-probes.js';

const KEEP_NS = 30_000_000_000n;
const MS = 1_000_000n;

describe('FinishedProbes', () => {
  it('remembers a probe for exactly its window, with what it was', () => {
    const finished = new FinishedProbes(KEEP_NS);
    const duplicates = { count: 0 };
    finished.add(7, { answered: true, address: '192.0.2.1', duplicates }, 1000n * MS);
    finished.add(8, { answered: false, address: '192.0.2.2' }, 2000n * MS);
    const seven = finished.get(7);
    expect(seven).toMatchObject({ answered: true, address: '192.0.2.1' });
    expect(seven?.duplicates).toBe(duplicates);
    expect(finished.get(8)).toEqual({ answered: false, address: '192.0.2.2' });
    finished.add(9, { answered: true, address: '192.0.2.3' }, 31_000n * MS - 1n);
    expect([finished.has(7), finished.has(8), finished.has(9)]).toEqual([true, true, true]);
    finished.add(10, { answered: true, address: '192.0.2.4' }, 31_000n * MS);
    expect([finished.has(7), finished.has(8), finished.size]).toEqual([false, true, 3]);
  });

  it.each([
    ['the first identifier', 0],
    ['an identifier past 2^15 (keys beyond int32)', 0xffff],
  ])('keeps every record findable while the ring grows past its capacity: %s', (_name, id) => {
    const finished = new FinishedProbes(KEEP_NS);
    for (let seq = 0; seq < 20_000; seq++)
      finished.add(id * 0x10000 + seq, { answered: seq % 2 === 0, address: `a${seq}` }, BigInt(seq) * MS);
    expect(finished.size).toBe(20_000);
    expect(finished.capacity).toBeGreaterThanOrEqual(20_000);
    for (const seq of [0, 255, 256, 4097, 19_999])
      expect(finished.get(id * 0x10000 + seq)).toEqual({ answered: seq % 2 === 0, address: `a${seq}` });
    expect(finished.get(id * 0x10000 + 20_000)).toBeUndefined();
  });

  it('forgets oldest first as time passes, and shrinks back once the peak is gone', () => {
    const finished = new FinishedProbes(KEEP_NS);
    // A burst of 50,000 probes in 5 s, then one probe a second for a minute.
    for (let i = 0; i < 50_000; i++) finished.add(i, { answered: true, address: 'x' }, BigInt(i) * 100_000n);
    const peak = finished.capacity;
    for (let s = 6; s <= 66; s++) finished.add(100_000 + s, { answered: true, address: 'y' }, BigInt(s) * 1000n * MS);
    expect(finished.has(49_999)).toBe(false);
    expect(finished.size).toBe(30);
    expect(finished.has(100_066)).toBe(true);
    expect(finished.has(100_036)).toBe(false);
    expect(finished.capacity).toBeLessThan(peak);
    expect(finished.capacity).toBe(256);
  });

  it('finds an identifier again after its table was dropped while it was the last one looked up', () => {
    const finished = new FinishedProbes(KEEP_NS);
    const x = (seq: number): number => 0x0001 * 0x10000 + seq;
    const y = (seq: number): number => 0x0002 * 0x10000 + seq;
    finished.add(x(5), { answered: true, address: 'x' }, 0n);
    finished.add(y(5), { answered: true, address: 'y' }, 20_000n * MS);
    // Forgetting x(5) drops identifier 1's table, the one looked up last; x(6) then needs a new one.
    finished.add(x(6), { answered: true, address: 'x' }, 31_000n * MS);
    expect(finished.has(y(5))).toBe(true);
    expect(finished.has(x(6))).toBe(true);
    expect(finished.has(x(5))).toBe(false);
  });
});
