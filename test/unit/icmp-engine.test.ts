import { describe, expect, it } from 'vitest';
import { IcmpEngine } from '../../src/net/icmp/icmp-engine.js';
import { inetChecksum } from '../../src/net/icmp/packet.js';
import { BATCH_FIELD } from '../../src/net/icmp/native.js';
import type { BatchLayout, NativeHandle, NativeIcmp } from '../../src/net/icmp/native.js';
import { FakeClock, flushPromises } from '../helpers/fake-clock.js';

interface Sent {
  family: 4 | 6;
  address: string;
  id: number;
  seq: number;
  ttl: number;
  tos: number;
  source: string;
  stampNs: bigint;
}

/** A datagram as the fake addon writes it into a socket's batch block. */
interface NativePacket {
  data: Buffer;
  address: string;
  stampNs: bigint;
  hopLimit: number;
  errorType?: number;
  errorCode?: number;
  destination?: string;
}

/** Not the addon's layout: the engine must read the one it is given. */
const LAYOUT: BatchLayout = {
  packets: 16,
  fields: 8,
  meta: 128,
  addresses: 640,
  data: 1152,
  bytes: 1152 + 8192,
  minBytes: 1152 + 8192,
};

/** Writes `packets` into a batch block as the addon does; returns their count. */
function writeBatch(memory: ArrayBuffer, packets: NativePacket[]): number {
  const bytes = Buffer.from(memory);
  const stamps = new BigInt64Array(memory, 0, LAYOUT.packets);
  const meta = new Int32Array(memory, LAYOUT.meta, LAYOUT.packets * LAYOUT.fields);
  const ipv4 = (at: number, address: string | undefined): number => {
    if (!address) return 0;
    bytes.set(address.split('.').map(Number), at);
    return 4;
  };
  let offset = LAYOUT.data;
  packets.forEach((p, i) => {
    const m = i * LAYOUT.fields;
    stamps[i] = p.stampNs;
    meta[m + BATCH_FIELD.offset] = offset;
    meta[m + BATCH_FIELD.length] = p.data.copy(bytes, offset);
    meta[m + BATCH_FIELD.hopLimit] = p.hopLimit;
    meta[m + BATCH_FIELD.errorType] = p.errorType ?? -1;
    meta[m + BATCH_FIELD.errorCode] = p.errorCode ?? 0;
    meta[m + BATCH_FIELD.family] = ipv4(LAYOUT.addresses + i * 32, p.address);
    meta[m + BATCH_FIELD.destinationFamily] = ipv4(LAYOUT.addresses + i * 32 + 16, p.destination);
    offset += p.data.length;
  });
  return packets.length;
}

/** A stand-in for the addon: records sends, lets the test deliver datagrams (IPv4 only). */
function fakeNative(
  clock: FakeClock,
  opts: { openError?: string; datagramError?: string; sendErrors?: string[] } = {},
) {
  const sent: Sent[] = [];
  const sockets: Array<{
    family: 4 | 6;
    /** The identifier a ping socket is bound to; undefined: raw. */
    identifier?: number;
    deliver: (p: NativePacket[]) => void;
    fail: (errno: number, msg: string) => void;
    closed: boolean;
  }> = [];
  const sendErrors = [...(opts.sendErrors ?? [])];
  const native: NativeIcmp = {
    batchLayout: LAYOUT,
    openBatch(family, identifier, memory, onBatch, onError) {
      const error = identifier < 0 ? opts.openError : opts.datagramError;
      if (error) throw Object.assign(new Error(`socket: ${error}`), { code: error });
      // As the addon does: at most a block's worth per call.
      const deliver = (packets: NativePacket[]) => {
        for (let i = 0; i < packets.length; i += LAYOUT.packets)
          onBatch(writeBatch(memory, packets.slice(i, i + LAYOUT.packets)));
      };
      const s = { family, ...(identifier < 0 ? {} : { identifier }), deliver, fail: onError, closed: false };
      sockets.push(s);
      return s as unknown as NativeHandle;
    },
    openUdp() {
      throw new Error('the ICMP engine opens no UDP socket');
    },
    send(handle, data, address, ttl, tos, source) {
      const err = sendErrors.shift();
      if (err) throw Object.assign(new Error(err), { code: err });
      const family = (handle as unknown as { family: 4 | 6 }).family;
      const stampNs = clock.monotonicNs();
      sent.push({ family, address, id: data.readUInt16BE(4), seq: data.readUInt16BE(6), ttl, tos, source, stampNs });
      return stampNs;
    },
    // Deliveries are synchronous here: nothing is ever left queued.
    read: () => undefined,
    setDontFragment: () => undefined,
    close(handle) {
      (handle as unknown as { closed: boolean }).closed = true;
    },
  };
  /** An IPv4 echo reply to a sent probe, stamped `afterMs` after its send. */
  const reply4 = (probe: Sent, afterMs: number, from = probe.address, ttl = 60): NativePacket => {
    const ip = Buffer.alloc(20);
    ip[0] = 0x45;
    ip[8] = ttl;
    ip[9] = 1;
    const icmp = Buffer.alloc(8);
    icmp.writeUInt16BE(probe.id, 4);
    icmp.writeUInt16BE(probe.seq, 6);
    icmp.writeUInt16BE(inetChecksum(icmp), 2);
    return {
      data: Buffer.concat([ip, icmp]),
      address: from,
      stampNs: probe.stampNs + BigInt(afterMs * 1e6),
      hopLimit: -1,
    };
  };
  const deliver = (family: 4 | 6, packets: NativePacket[]) =>
    sockets
      .filter((s) => s.family === family && !s.closed)
      .at(-1)
      ?.deliver(packets);
  return { native, sent, sockets, reply4, deliver };
}

/** The engine's first echo per family is a loopback warm-up: answer it so the real probe goes out. */
async function warm(clock: FakeClock, fake: ReturnType<typeof fakeNative>): Promise<void> {
  await flushPromises();
  const warmup = fake.sent.find((s) => s.address === '127.0.0.1');
  if (warmup) fake.deliver(4, [fake.reply4(warmup, 0.01)]);
  await flushPromises();
}

describe('IcmpEngine', () => {
  it('times replies from the kernel stamps and matches them by identifier and sequence', async () => {
    const clock = new FakeClock();
    const fake = fakeNative(clock);
    const engine = new IcmpEngine(clock, () => fake.native);
    const a = engine.echo({ address: '192.0.2.1', family: 4, timeoutMs: 1000, ttl: 9, tos: 184, source: '198.18.0.1' });
    await warm(clock, fake);
    const b = engine.echo({ address: '192.0.2.2', family: 4, timeoutMs: 1000 });
    await flushPromises();
    const [pa, pb] = fake.sent.slice(1);
    expect(pa).toMatchObject({ address: '192.0.2.1', ttl: 9, tos: 184, source: '198.18.0.1' });
    fake.deliver(4, [fake.reply4(pb!, 7.5), fake.reply4(pa!, 12.25)]);
    expect(await a).toMatchObject({ status: 'reply', rttNs: 12_250_000n, ttl: 60, from: '192.0.2.1' });
    expect(await b).toMatchObject({ status: 'reply', rttNs: 7_500_000n });
    expect(engine.stats()).toMatchObject({ sent: 3, received: 3, duplicates: 0, late: 0, available: { 4: true } });
  });

  it('times out each probe at its own deadline with one timer, and counts late replies', async () => {
    const clock = new FakeClock();
    const fake = fakeNative(clock);
    const engine = new IcmpEngine(clock, () => fake.native);
    const first = engine.echo({ address: '192.0.2.1', family: 4, timeoutMs: 100 });
    await warm(clock, fake);
    await clock.advance(50);
    const second = engine.echo({ address: '192.0.2.2', family: 4, timeoutMs: 100 });
    await flushPromises();
    let done = 0;
    void first.then(() => done++);
    void second.then(() => done++);
    await clock.advance(51);
    expect(done).toBe(1);
    expect(await first).toEqual({ status: 'timeout' });
    await clock.advance(50);
    expect(await second).toEqual({ status: 'timeout' });
    fake.deliver(4, [fake.reply4(fake.sent[1]!, 200)]);
    expect(engine.stats().late).toBe(1);
    await clock.advance(100); // past the answered warm-up's stale deadline too
    expect(clock.pendingTimers()).toBe(0);
  });

  it("counts duplicates and tells the probe; ignores another process's replies", async () => {
    const clock = new FakeClock();
    const fake = fakeNative(clock);
    const engine = new IcmpEngine(clock, () => fake.native);
    const duplicates = { count: 0 };
    const probe = engine.echo({ address: '192.0.2.1', family: 4, timeoutMs: 1000, duplicates });
    await warm(clock, fake);
    const sent = fake.sent[1]!;
    const stranger = { ...sent, id: (sent.id + 1) & 0xffff };
    fake.deliver(4, [fake.reply4(stranger, 1)]);
    fake.deliver(4, [fake.reply4(sent, 2), fake.reply4(sent, 3), fake.reply4(sent, 4)]);
    expect(await probe).toMatchObject({ status: 'reply', rttNs: 2_000_000n });
    expect(duplicates.count).toBe(2);
    expect(engine.stats()).toMatchObject({ duplicates: 2, unmatched: 0, otherAddress: 0 });
  });

  it('matches an echo reply from another address by identifier and sequence, and says so', async () => {
    const clock = new FakeClock();
    const fake = fakeNative(clock);
    const engine = new IcmpEngine(clock, () => fake.native);
    const probe = engine.echo({ address: '192.0.2.1', family: 4, timeoutMs: 1000 });
    await warm(clock, fake);
    fake.deliver(4, [fake.reply4(fake.sent[1]!, 1.5, '192.0.2.99', 61)]);
    expect(await probe).toEqual({ status: 'reply-other-address', rttNs: 1_500_000n, ttl: 61, from: '192.0.2.99' });
    expect(engine.stats()).toMatchObject({ received: 1, otherAddress: 1 }); // received: the warm-up's
  });

  it('uses a second identifier once 65,536 probes of the first are in flight', async () => {
    const clock = new FakeClock();
    const fake = fakeNative(clock);
    const engine = new IcmpEngine(clock, () => fake.native);
    void engine.echo({ address: '127.0.0.2', family: 4, timeoutMs: 60_000 });
    await warm(clock, fake);
    for (let i = 0; i < 65_536; i++) void engine.echo({ address: '127.0.0.2', family: 4, timeoutMs: 60_000 });
    for (let i = 0; i < 300; i++) await new Promise((r) => setImmediate(r));
    const ids = new Set(fake.sent.slice(1).map((s) => s.id));
    expect(fake.sent.length).toBe(65_538);
    expect(ids.size).toBe(2);
    engine.close();
  }, 30_000);

  it('names the fix when raw sockets are not allowed', async () => {
    const clock = new FakeClock();
    const engine = new IcmpEngine(clock, () => fakeNative(clock, { openError: 'EPERM' }).native);
    engine.configure('raw');
    const outcome = await engine.echo({ address: '192.0.2.1', family: 4, timeoutMs: 100 });
    expect(outcome).toMatchObject({ status: 'failed', failure: { code: 'ICMP_UNAVAILABLE' } });
    expect((outcome as { failure: Error }).failure.message).toMatch(/CAP_NET_RAW.*--cap-add NET_RAW.*setcap/);
    expect(engine.stats().available).toEqual({ 4: false });
  });

  it.each([
    ['auto', undefined, 'datagram'],
    ['auto', 'EACCES', undefined],
    ['datagram', undefined, 'datagram'],
    ['datagram', 'EACCES', undefined],
    ['raw', undefined, undefined],
  ] as const)('icmp_socket %s without CAP_NET_RAW, ping sockets failing with %s: %s', (mode, datagramError, kind) => {
    const clock = new FakeClock();
    const fake = fakeNative(clock, { openError: 'EPERM', ...(datagramError ? { datagramError } : {}) });
    const engine = new IcmpEngine(clock, () => fake.native);
    engine.configure(mode);
    const failure = engine.open(4);
    expect(engine.stats().socketKind).toEqual(kind ? { 4: kind } : {});
    if (kind) return expect(failure).toBeNull();
    // Whatever was asked for, the message names both ways to allow ICMP.
    expect(failure).toMatchObject({ code: 'ICMP_UNAVAILABLE' });
    expect(failure!.message).toMatch(/CAP_NET_RAW/);
    expect(failure!.message).toMatch(/ping_group_range/);
  });

  it('uses raw sockets when allowed unless told to use ping sockets', () => {
    const clock = new FakeClock();
    const fake = fakeNative(clock);
    const auto = new IcmpEngine(clock, () => fake.native);
    auto.open(4);
    const datagram = new IcmpEngine(clock, () => fake.native);
    datagram.configure('datagram');
    datagram.open(4);
    expect([auto.stats().socketKind, datagram.stats().socketKind]).toEqual([{ 4: 'raw' }, { 4: 'datagram' }]);
  });

  it('binds a ping socket to each identifier it sends with and reads errors from its error queue', async () => {
    const clock = new FakeClock();
    const fake = fakeNative(clock);
    const engine = new IcmpEngine(clock, () => fake.native);
    engine.configure('datagram');
    const probe = engine.echo({ address: '198.18.8.8', family: 4, ttl: 2, timeoutMs: 1000 });
    await flushPromises();
    const warmup = fake.sent[0]!;
    // What a ping socket delivers: no IP header, the TTL as ancillary data.
    const reply = Buffer.from([0, 0, 0, 0, 0, 0, 0, 0]);
    reply.writeUInt16BE(warmup.id, 4);
    reply.writeUInt16BE(warmup.seq, 6);
    fake.deliver(4, [{ data: reply, address: '127.0.0.1', stampNs: warmup.stampNs + 10_000n, hopLimit: 64 }]);
    await flushPromises();
    const sent = fake.sent[1]!;
    expect(fake.sockets.map((s) => s.identifier)).toEqual([sent.id]);
    // The error queue gives our request as quoted, the error's type and code, and the router.
    const quoted = Buffer.from([8, 0, 0, 0, 0, 0, 0, 0]);
    quoted.writeUInt16BE(sent.id, 4);
    quoted.writeUInt16BE(sent.seq, 6);
    const error = { data: quoted, address: '198.18.0.2', stampNs: sent.stampNs + 250_000n, hopLimit: 63 };
    fake.deliver(4, [{ ...error, errorType: 11, errorCode: 0, destination: '198.18.8.8' }]);
    expect(await probe).toEqual({ status: 'time-exceeded', code: 0, rttNs: 250_000n, from: '198.18.0.2' });
  });

  it('treats a kernel without the family as absent, not as a missing capability', async () => {
    const clock = new FakeClock();
    const engine = new IcmpEngine(clock, () => fakeNative(clock, { openError: 'EAFNOSUPPORT' }).native);
    const failure = engine.open(6);
    expect(failure).toMatchObject({ code: 'ICMP_UNAVAILABLE' });
    expect(failure!.message).toMatch(/no IPv6 \(EAFNOSUPPORT\)/);
    expect(engine.stats().available).toEqual({});
  });

  it('retries a send the kernel could not queue, and re-creates a socket that failed', async () => {
    const clock = new FakeClock();
    const fake = fakeNative(clock, { sendErrors: ['ENOBUFS'] });
    const engine = new IcmpEngine(clock, () => fake.native);
    const probe = engine.echo({ address: '192.0.2.1', family: 4, timeoutMs: 1000 });
    await flushPromises();
    await clock.advance(1);
    await warm(clock, fake);
    await clock.advance(1);
    fake.deliver(4, [fake.reply4(fake.sent.at(-1)!, 1)]);
    expect((await probe).status).toBe('reply');
    fake.sockets[0]!.fail(5, 'EIO');
    expect(fake.sockets[0]!.closed).toBe(true);
    void engine.echo({ address: '192.0.2.1', family: 4, timeoutMs: 1000 });
    await flushPromises();
    expect(fake.sockets).toHaveLength(2);
    expect(engine.stats().socketErrors).toBe(1);
    engine.close();
  });

  it('an aborted probe resolves at once and frees its key', async () => {
    const clock = new FakeClock();
    const fake = fakeNative(clock);
    const engine = new IcmpEngine(clock, () => fake.native);
    const controller = new AbortController();
    const probe = engine.echo({ address: '192.0.2.1', family: 4, timeoutMs: 1000, signal: controller.signal });
    await warm(clock, fake);
    controller.abort();
    expect(await probe).toEqual({ status: 'aborted' });
    fake.deliver(4, [fake.reply4(fake.sent[1]!, 5)]);
    expect(engine.stats().late).toBe(1);
  });

  it("matches an ICMP error to the probe it quotes, only if it quotes that probe's destination", async () => {
    const clock = new FakeClock();
    const fake = fakeNative(clock);
    const engine = new IcmpEngine(clock, () => fake.native);
    const probe = engine.echo({ address: '192.0.2.1', family: 4, timeoutMs: 1000, ttl: 3 });
    await warm(clock, fake);
    const sent = fake.sent[1]!;
    const timeExceeded = (destination: number[]) => {
      const request = Buffer.alloc(8);
      request[0] = 8;
      request.writeUInt16BE(sent.id, 4);
      request.writeUInt16BE(sent.seq, 6);
      const quoted = Buffer.concat([
        Buffer.from([0x45, 0, 0, 28, 0, 0, 0, 0, 1, 1, 0, 0, 198, 18, 0, 1, ...destination]),
        request,
      ]);
      const icmp = Buffer.concat([Buffer.from([11, 0, 0, 0, 0, 0, 0, 0]), quoted]);
      icmp.writeUInt16BE(inetChecksum(icmp), 2);
      const ip = Buffer.alloc(20);
      ip[0] = 0x45;
      ip[8] = 62;
      ip[9] = 1;
      return {
        data: Buffer.concat([ip, icmp]),
        address: '198.18.2.2',
        stampNs: sent.stampNs + 3_000_000n,
        hopLimit: -1,
      };
    };
    fake.deliver(4, [timeExceeded([192, 0, 2, 99])]);
    fake.deliver(4, [timeExceeded([192, 0, 2, 1])]);
    expect(await probe).toEqual({ status: 'time-exceeded', code: 0, rttNs: 3_000_000n, from: '198.18.2.2' });
    expect(engine.stats().unmatched).toBe(1);
  });

  it('never hands out a key again while a late or duplicate reply to it could still come', async () => {
    const clock = new FakeClock();
    const fake = fakeNative(clock);
    const engine = new IcmpEngine(clock, () => fake.native);
    void engine.echo({ address: '192.0.2.1', family: 4, timeoutMs: 10 });
    await warm(clock, fake);
    for (let i = 0; i < 3; i++) {
      const p = engine.echo({ address: '192.0.2.1', family: 4, timeoutMs: 10 });
      await flushPromises();
      await clock.advance(11);
      expect(await p).toEqual({ status: 'timeout' });
    }
    const keys = fake.sent.map((s) => s.id * 65536 + s.seq);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('empties its tables once probes stop: in flight, queued, deadlines, and finished ones after 30 s', async () => {
    const clock = new FakeClock();
    const fake = fakeNative(clock);
    const engine = new IcmpEngine(clock, () => fake.native);
    void engine.echo({ address: '127.0.0.2', family: 4, timeoutMs: 100 });
    await warm(clock, fake);
    const probes = Array.from({ length: 1_000 }, (_, i) =>
      engine.echo({ address: `127.1.${i >> 8}.${i & 255}`, family: 4, timeoutMs: 100 }),
    );
    for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
    // The 1,000, and the first probe (sent once the warm-up was answered).
    expect(engine.sizes()).toMatchObject({ inFlight: 1_001, queued: 0, deadlines: 1_001 });
    // Half are answered, the rest time out.
    fake.deliver(
      4,
      fake.sent.slice(2, 502).map((p) => fake.reply4(p, 1)),
    );
    await clock.advance(101);
    expect((await Promise.all(probes)).filter((o) => o.status === 'reply')).toHaveLength(500);
    // Every probe, the warm-up too, is remembered for late and duplicate replies.
    expect(engine.sizes()).toEqual({ inFlight: 0, queued: 0, deadlines: 0, remembered: 1_002 });
    // Finished probes are forgotten as others finish, 30 s after they did.
    await clock.advance(30_000);
    const last = engine.echo({ address: '127.0.0.2', family: 4, timeoutMs: 100 });
    await flushPromises();
    fake.deliver(4, [fake.reply4(fake.sent.at(-1)!, 1)]);
    expect((await last).status).toBe('reply');
    expect(engine.sizes()).toEqual({ inFlight: 0, queued: 0, deadlines: 0, remembered: 1 });
    expect(clock.pendingTimers()).toBe(0);
  });

  it("sends a probe in the caller's turn, not after the poll phase, while the turn's budget lasts", async () => {
    const clock = new FakeClock();
    const fake = fakeNative(clock);
    const engine = new IcmpEngine(clock, () => fake.native);
    void engine.echo({ address: '127.0.0.2', family: 4, timeoutMs: 1000 });
    await warm(clock, fake);
    const before = fake.sent.length;
    void engine.echo({ address: '192.0.2.7', family: 4, timeoutMs: 1000 });
    // Microtasks only (the warm-up is awaited): no immediate has run.
    for (let i = 0; i < 5; i++) await Promise.resolve();
    expect(fake.sent.slice(before).map((s) => s.address)).toEqual(['192.0.2.7']);
    engine.close();
  });

  it('paces sends: at most 256 per event-loop turn', async () => {
    const clock = new FakeClock();
    const fake = fakeNative(clock);
    const engine = new IcmpEngine(clock, () => fake.native);
    void engine.echo({ address: '127.0.0.2', family: 4, timeoutMs: 60_000 });
    await warm(clock, fake);
    for (let i = 0; i < 2_000; i++) void engine.echo({ address: '127.0.0.2', family: 4, timeoutMs: 60_000 });
    const perTurn: number[] = [];
    let last = fake.sent.length;
    for (let i = 0; i < 40; i++) {
      await new Promise((r) => setImmediate(r));
      perTurn.push(fake.sent.length - last);
      last = fake.sent.length;
    }
    expect(Math.max(...perTurn)).toBeLessThanOrEqual(256);
    expect(fake.sent.length).toBe(2_002);
    engine.close();
  });

  it('pings the canonical form of an IPv6 literal and refuses a v4-mapped one', async () => {
    const clock = new FakeClock();
    const fake = fakeNative(clock);
    const engine = new IcmpEngine(clock, () => fake.native);
    void engine.echo({ address: '2001:0DB8:0:0::0001', family: 6, timeoutMs: 1000 });
    await flushPromises();
    expect(fake.sent.at(-1)?.address).toBe('::1'); // the warm-up goes first
    await clock.advance(200); // the warm-up's timeout: then the probe itself
    expect(fake.sent.at(-1)?.address).toBe('2001:db8::1');
    const mapped = await engine.echo({ address: '::ffff:127.0.0.1', family: 6, timeoutMs: 1000 });
    expect(mapped).toMatchObject({ status: 'failed', failure: { code: 'ICMP_SEND_FAILED' } });
    engine.close();
  });
});
