import { describe, expect, it } from 'vitest';
import { CheckFailure } from '../../src/errors.js';
import { BatchBlock } from '../../src/net/icmp/batch-block.js';
import { FamilySocket } from '../../src/net/icmp/family-socket.js';
import { BATCH_FIELD } from '../../src/net/icmp/native.js';
import type { BatchLayout, NativeHandle, NativeIcmp } from '../../src/net/icmp/native.js';

const LAYOUT: BatchLayout = {
  packets: 64,
  fields: 8,
  meta: 512,
  addresses: 2560,
  data: 4608,
  bytes: 135_680,
  minBytes: 70_272,
};

/** A raw socket over an addon that records what setDontFragment was asked. */
function rawSocket(family: 4 | 6): { socket: FamilySocket; settings: Array<boolean | null> } {
  const settings: Array<boolean | null> = [];
  const handle: NativeHandle = {};
  const native: NativeIcmp = {
    batchLayout: LAYOUT,
    openBatch: () => handle,
    openUdp: () => handle,
    read: () => undefined,
    send: () => 0n,
    setDontFragment: (_, df) => void settings.push(df),
    close: () => undefined,
  };
  const socket = FamilySocket.open(
    native,
    family,
    'raw',
    1,
    () => undefined,
    () => undefined,
  );
  if (socket instanceof CheckFailure) throw socket;
  return { socket, settings };
}

const send = (socket: FamilySocket, icmpBytes: number, df: boolean): bigint =>
  socket.send(1, Buffer.alloc(icmpBytes), '192.0.2.1', 0, 0, '', df);

describe('FamilySocket: DF', () => {
  it('IPv4 probes of up to 576 bytes with their IP header carry DF while they fit, as ping sends them', () => {
    const { socket, settings } = rawSocket(4);
    send(socket, 64, false);
    send(socket, 556, false);
    send(socket, 557, false);
    send(socket, 64, true);
    send(socket, 1400, true);
    send(socket, 64, false);
    // One setting per change: 556 bytes of ICMP is 576 of IP (null: DF while it fits the route).
    expect(settings).toEqual([null, false, true, null]);
  });

  it('IPv6 probes are never given DF unless asked', () => {
    const { socket, settings } = rawSocket(6);
    send(socket, 64, false);
    send(socket, 64, true);
    expect(settings).toEqual([false, true]);
  });
});

/** Writes an IPv4 source address into datagram 0's slot, as the addon does. */
function setSource(block: BatchBlock, bytes: readonly number[]): void {
  new Int32Array(block.memory, LAYOUT.meta, LAYOUT.packets * LAYOUT.fields)[BATCH_FIELD.family] = 4;
  block.bytes.set(bytes, LAYOUT.addresses);
}

describe('BatchBlock: IPv4 source texts', () => {
  it('gives each address its own text, through the cache, 0.0.0.0 and slot-sharing addresses included', () => {
    const block = new BatchBlock(LAYOUT);
    // 70,000 addresses: more than the cache's 32,768 slots, so many share one; each read twice.
    const addresses = [
      [0, 0, 0, 0],
      ...Array.from({ length: 70_000 }, (_, i) => [10, (i >> 16) & 255, (i >> 8) & 255, i & 255]),
    ];
    for (const round of [1, 2])
      for (const a of addresses) {
        setSource(block, a);
        expect([round, block.address(0)]).toEqual([round, a.join('.')]);
      }
  });
});
