import { describe, expect, it } from 'vitest';
import { giveBack, noPlace, SizeClassPool, SlotPool } from '../../src/slabs.js';
import type { Place } from '../../src/slabs.js';

function taken(pool: SizeClassPool, bytes: number): Place {
  const p = noPlace();
  pool.take(bytes, p);
  return p;
}

describe('SizeClassPool', () => {
  it('gives room for the bytes and a sixteenth more, in slots of 8-byte multiples that never overlap', () => {
    const pool = new SizeClassPool();
    for (const bytes of [1, 60, 64, 65, 500, 1000, 1111, 4096, 15_000]) {
      const one = taken(pool, bytes);
      // One slab's slots and one more: a second slab.
      const places = [one, ...Array.from({ length: one.buf.length / one.room }, () => taken(pool, bytes))];
      for (const p of places) {
        expect(p.room).toBeGreaterThanOrEqual(bytes + (bytes >> 4));
        // The next size down would not have done: at most 12.5 % more than asked, past the smallest.
        expect(p.room).toBeLessThanOrEqual(Math.max(64, Math.ceil(((bytes + (bytes >> 4)) * 1.125) / 8) * 8));
        expect(p.room % 8).toBe(0);
        expect(p.base + p.room).toBeLessThanOrEqual(p.buf.length);
      }
      // Per slab, by base: each slot ends where the next may start.
      for (const buf of new Set(places.map((p) => p.buf))) {
        const bases = places.filter((p) => p.buf === buf).map((p) => [p.base, p.base + p.room] as const);
        bases.sort((x, y) => x[0] - y[0]);
        for (let i = 1; i < bases.length; i++) expect(bases[i]![0]).toBeGreaterThanOrEqual(bases[i - 1]![1]);
      }
      expect(new Set(places.map((p) => p.buf)).size).toBe(2);
    }
  });

  it('takes a slot given back before cutting a slab; lets an empty slab go unless it is the last of its size', () => {
    const pool = new SizeClassPool();
    const first = taken(pool, 1000);
    const held = pool.heldBytes;
    expect(held).toBe(first.buf.length);
    giveBack(first);
    expect(pool.heldBytes).toBe(held);
    const again = taken(pool, 1000);
    expect([again.buf, again.base]).toStrictEqual([first.buf, first.base]);

    const slots = first.buf.length / first.room;
    const more = Array.from({ length: slots }, () => taken(pool, 1000));
    expect(pool.heldBytes).toBe(2 * held);
    for (const p of more) giveBack(p);
    // The second slab emptied while the first still had room: let go.
    expect(pool.heldBytes).toBe(held);
    giveBack(again);
    expect(pool.heldBytes).toBe(held);
    // Given back twice: the slot is free once, so the slab's slots are handed out once each.
    giveBack(again);
    const all = Array.from({ length: slots }, () => taken(pool, 1000));
    expect(new Set(all.map((p) => p.base)).size).toBe(slots);
    expect(pool.heldBytes).toBe(held);
  });

  it('gives a rendering larger than the largest slot a buffer of its own, outside the slabs', () => {
    const pool = new SizeClassPool();
    const big = taken(pool, 100_000);
    expect(big.slab).toBeUndefined();
    expect([big.base, big.room]).toStrictEqual([0, big.buf.length]);
    expect(big.room).toBeGreaterThanOrEqual(100_000);
    expect(pool.heldBytes).toBe(0);
    giveBack(big);
    expect(pool.heldBytes).toBe(0);
  });
});

describe('SlotPool', () => {
  it('cuts slots of exactly its size, each seen as doubles and floats at its own offset', () => {
    const pool = new SlotPool(24);
    const [a, b] = [noPlace(), noPlace()];
    pool.take(a);
    pool.take(b);
    expect([a.room, b.room, a.buf]).toStrictEqual([24, 24, b.buf]);
    expect(Math.abs(a.base - b.base)).toBe(24);
    const slab = a.slab;
    if (!slab) throw new Error('no slab');
    slab.f64[b.base / 8] = 1.5;
    slab.f32[b.base / 4 + 2] = 2.5;
    slab.u16[b.base / 2 + 6] = 65_535;
    expect(b.buf.readDoubleLE(b.base)).toBe(1.5);
    expect(b.buf.readFloatLE(b.base + 8)).toBe(2.5);
    expect(b.buf.readUInt16LE(b.base + 12)).toBe(65_535);
    expect(slab.f64).toBe(slab.f64);
  });

  it('refuses a size that would misalign its numbers, and a place from another pool', () => {
    expect(() => new SlotPool(20)).toThrow(/multiple of 8/);
    const [one, other] = [new SlotPool(8), new SlotPool(8)];
    const p = noPlace();
    one.take(p);
    expect(() => other.give(p)).toThrow(/not from/);
    one.give(p);
    expect(p.slab).toBeUndefined();
  });
});
