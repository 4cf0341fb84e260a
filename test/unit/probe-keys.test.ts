import { describe, expect, it } from 'vitest';
import { ProbeKeys } from '../../src/net/icmp/probe-keys.js';

describe('ProbeKeys', () => {
  it('keeps every key below 2^31 and takes another identifier only when the current one has no free key', () => {
    const inUse = new Set<number>();
    const keys = new ProbeKeys((key) => inUse.has(key));
    const first = keys.allocate();
    expect(first >>> 16).toBe(keys.firstId());
    // Every sequence of the first identifier in flight: the next key has another identifier.
    for (let seq = 0; seq < 0x10000; seq++) inUse.add(keys.firstId() * 0x10000 + seq);
    const second = keys.allocate();
    expect(second >>> 16).not.toBe(keys.firstId());
    // It stays with that identifier while it has keys, then comes back to the first once it is free.
    expect(keys.allocate() >>> 16).toBe(second >>> 16);
    inUse.clear();
    for (let seq = 0; seq < 0x10000; seq++) inUse.add((second >>> 16) * 0x10000 + seq);
    expect(keys.allocate() >>> 16).toBe(keys.firstId());
    for (let i = 0; i < 1000; i++) expect(new ProbeKeys(() => false).allocate()).toBeLessThan(2 ** 31);
  });
});
