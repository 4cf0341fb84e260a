import { describe, expect, it } from 'vitest';
import { InFlight } from '../../src/net/icmp/in-flight.js';

describe('InFlight', () => {
  it('holds probes by identifier and sequence, across identifiers, and counts them', () => {
    const table = new InFlight<{ n: number }>();
    const a = { n: 1 };
    const b = { n: 2 };
    const c = { n: 3 };
    // Keys past 2^31 (identifier >= 0x8000) and the last sequence of an identifier.
    table.set(0xfffe * 0x10000 + 0xffff, a);
    table.set(0x0001 * 0x10000 + 0, b);
    table.set(0xfffe * 0x10000 + 7, c);
    expect(table.size).toBe(3);
    expect(table.get(0xfffe * 0x10000 + 0xffff)).toBe(a);
    expect(table.get(0x0001 * 0x10000)).toBe(b);
    expect(table.get(0xfffe * 0x10000 + 7)).toBe(c);
    expect(table.has(0x0001 * 0x10000 + 1)).toBe(false);
    expect(table.get(0x1234 * 0x10000)).toBeUndefined();
    expect(table.values()).toEqual(expect.arrayContaining([a, b, c]));
  });

  it('deletes a key only while it still holds that probe', () => {
    const table = new InFlight<{ n: number }>();
    const a = { n: 1 };
    const b = { n: 2 };
    table.set(42, a);
    expect(table.delete(42, b)).toBe(false);
    expect(table.get(42)).toBe(a);
    expect(table.delete(42, a)).toBe(true);
    expect(table.delete(42, a)).toBe(false);
    expect(table.size).toBe(0);
    expect(table.values()).toEqual([]);
  });
});
