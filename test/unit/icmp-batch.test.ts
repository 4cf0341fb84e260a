import { randomInt } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { BatchBlock } from '../../src/net/icmp/batch-block.js';
import { IcmpEngine } from '../../src/net/icmp/icmp-engine.js';
import { BATCH_FIELD, loadNativeIcmp } from '../../src/net/icmp/native.js';
import type { NativeHandle, NativeIcmp } from '../../src/net/icmp/native.js';
import { echoRequest, inetChecksum, parseIcmp } from '../../src/net/icmp/packet.js';

const native = loadNativeIcmp();
const root = process.getuid?.() === 0 && !(native instanceof Error);

interface Read {
  /** Datagram counts of the batches handed over. */
  batches: number[];
  /** Our echo replies by sequence: their kernel stamps. */
  replies: Map<number, bigint>;
  /** Every datagram's length, ours or not. */
  lengths: number[];
}

/** A raw IPv4 socket of the addon on loopback, recording what each batch brought for echo identifier `id`. */
function openRaw(addon: NativeIcmp, id: number): { handle: NativeHandle; read: Read } {
  const block = new BatchBlock(addon.batchLayout);
  const read: Read = { batches: [], replies: new Map(), lengths: [] };
  const handle = addon.openBatch(
    4,
    -1,
    block.memory,
    (count) => {
      read.batches.push(count);
      for (let i = 0; i < count; i++) {
        read.lengths.push(block.field(i, BATCH_FIELD.length));
        const m = parseIcmp(4, block.data(i), block.address(i), block.field(i, BATCH_FIELD.hopLimit));
        if (m?.kind === 'echo-reply' && m.id === id) read.replies.set(m.seq, block.stampNs(i));
      }
    },
    () => undefined,
  );
  return { handle, read };
}

/** Real raw sockets on loopback (127.0.0.0/8 answers echo requests): the receive path reads in batches. */
describe.skipIf(!root)('ICMP batch reads', () => {
  const addon = native as NativeIcmp;
  const open: NativeHandle[] = [];
  afterEach(() => open.splice(0).forEach((h) => addon.close(h)));

  it('reads thousands of queued replies in one synchronous read(), many per batch, each with its own stamp', () => {
    const id = randomInt(0x10000);
    const { handle, read } = openRaw(addon, id);
    open.push(handle);
    const payload = Buffer.alloc(56, 0x56);
    const sentAt = new Map<number, bigint>();
    // Sent without yielding: every reply waits in the socket, more than one wake-up reads (16 batches).
    for (let seq = 0; seq < 2000; seq++)
      sentAt.set(seq, addon.send(handle, echoRequest(4, id, seq, payload), `127.3.${seq >> 8}.${seq & 255}`, 0, 0, ''));
    addon.read(handle);
    expect(read.replies.size).toBe(2000);
    expect(Math.max(...read.batches)).toBe(addon.batchLayout.packets);
    expect(read.batches.length).toBeLessThan(2000 / 8);
    for (const [seq, stamp] of read.replies) expect(stamp).toBeGreaterThan(sentAt.get(seq)!);
  });

  it('cuts a datagram longer than its slot to the slot; the rest of the batch reads intact', () => {
    const id = randomInt(0x10000);
    const { handle, read } = openRaw(addon, id);
    open.push(handle);
    // A foreign echo reply of 4,000 bytes (loopback delivers it to every raw socket; nobody answers a reply).
    const big = Buffer.alloc(4008, 0x41);
    big.writeUInt32BE(0, 0);
    big.writeUInt16BE((id + 1) & 0xffff, 4);
    big.writeUInt16BE(inetChecksum(big), 2);
    const small = Buffer.alloc(56);
    // From another socket: a socket's own sends grow its slots to fit their replies.
    const other = openRaw(addon, id).handle;
    open.push(other);
    addon.send(handle, echoRequest(4, id, 1, small), '127.0.0.1', 0, 0, '');
    addon.send(other, big, '127.0.0.1', 0, 0, '');
    addon.send(handle, echoRequest(4, id, 2, small), '127.0.0.1', 0, 0, '');
    addon.read(handle);
    expect([...read.replies.keys()].sort()).toEqual([1, 2]);
    // The slot: 2,048 bytes (sends of 64 bytes do not grow it); the whole datagram would be 4,028.
    const cut = read.lengths.filter((l) => l > 100);
    expect(cut.length).toBeGreaterThanOrEqual(1);
    for (const l of cut) expect(l).toBe(2048);
  });

  it('a reply stamped in time but read after its deadline (event loop blocked) is a reply, not a timeout', async () => {
    const engine = new IcmpEngine(systemClock);
    try {
      await engine.echo({ address: '127.0.0.1', family: 4, timeoutMs: 1_000 });
      const outcomes = Array.from({ length: 200 }, (_, i) =>
        engine.echo({ address: `127.4.0.${i + 1}`, family: 4, timeoutMs: 20 }),
      );
      // Every probe is out (one turn sends up to 256) and answered within microseconds; nothing is read
      // until well past every deadline.
      const until = performance.now() + 100;
      while (performance.now() < until);
      const settled = await Promise.all(outcomes);
      expect(settled.map((o) => o.status)).toEqual(Array(200).fill('reply'));
      for (const o of settled) if (o.status === 'reply') expect(Number(o.rttNs)).toBeLessThan(20e6);
    } finally {
      engine.close();
    }
  });
});
