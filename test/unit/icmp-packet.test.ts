import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  echoRequest,
  inetChecksum,
  parseDatagram,
  parseIcmp,
  readdressEcho,
  unreachableReason,
} from '../../src/net/icmp/packet.js';

/** An IPv4 header (20 bytes) for tests: protocol ICMP, given TTL, source and destination. */
function ipv4Header(ttl: number, src: number[], dst: number[], payloadLength: number): Buffer {
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h.writeUInt16BE(20 + payloadLength, 2);
  h[8] = ttl;
  h[9] = 1;
  Buffer.from(src).copy(h, 12);
  Buffer.from(dst).copy(h, 16);
  return h;
}

function icmpV4(type: number, code: number, rest: Buffer): Buffer {
  const m = Buffer.concat([Buffer.from([type, code, 0, 0, 0, 0, 0, 0]), rest]);
  m.writeUInt16BE(inetChecksum(m), 2);
  return m;
}

describe('echo requests', () => {
  it('carry type, identifier, sequence, payload and a valid IPv4 checksum', () => {
    const p = echoRequest(4, 0xbeef, 7, Buffer.alloc(56, 0x56));
    expect(p.length).toBe(64);
    expect([p[0], p[1], p.readUInt16BE(4), p.readUInt16BE(6)]).toEqual([8, 0, 0xbeef, 7]);
    expect(inetChecksum(p)).toBe(0); // a correct checksum sums to zero over the whole message
  });

  it('keep one checksum for every sequence when asked to (Paris probing)', () => {
    const sums = new Set(
      [0, 1, 2, 300, 65_535].map((seq) => echoRequest(4, 0x1234, seq, Buffer.alloc(30, 7), true).readUInt16BE(2)),
    );
    expect(sums.size).toBe(1);
    for (const seq of [0, 9, 65_535])
      expect(inetChecksum(echoRequest(4, 0x1234, seq, Buffer.alloc(30, 7), true))).toBe(0);
  });

  it('keep a valid checksum when one packet is re-addressed probe after probe', () => {
    const p = echoRequest(4, 0, 0, Buffer.alloc(56, 0x56));
    for (const [id, seq] of [
      [1, 2],
      [0xffff, 0xffff],
      [0, 0],
      [0x8000, 1],
      [0x1234, 0xfedc],
    ] as const) {
      readdressEcho(p, 4, id, seq, false);
      expect([p.readUInt16BE(4), p.readUInt16BE(6), inetChecksum(p)]).toEqual([id, seq, 0]);
      expect(p).toEqual(echoRequest(4, id, seq, Buffer.alloc(56, 0x56)));
    }
  });

  it('leave the ICMPv6 checksum to the kernel', () => {
    const p = echoRequest(6, 1, 2, Buffer.alloc(4));
    expect([p[0], p.readUInt16BE(2)]).toEqual([128, 0]);
  });
});

describe('parseIcmp', () => {
  it('reads an IPv4 echo reply with its TTL', () => {
    const reply = Buffer.from([0, 0, 0, 0, 0x12, 0x34, 0, 9]);
    reply.writeUInt16BE(inetChecksum(reply), 2);
    const datagram = Buffer.concat([ipv4Header(57, [192, 0, 2, 1], [198, 18, 0, 1], reply.length), reply]);
    expect(parseIcmp(4, datagram, '192.0.2.1', -1)).toMatchObject({
      kind: 'echo-reply',
      id: 0x1234,
      seq: 9,
      ttl: 57,
      from: '192.0.2.1',
    });
  });

  it('matches a Time Exceeded back to the quoted request and its destination', () => {
    const request = echoRequest(4, 0x4242, 3, Buffer.alloc(8));
    const quoted = Buffer.concat([
      ipv4Header(1, [198, 18, 0, 1], [198, 19, 1, 21], request.length),
      request.subarray(0, 8),
    ]);
    const err = icmpV4(11, 0, quoted);
    const datagram = Buffer.concat([ipv4Header(63, [198, 18, 2, 2], [198, 18, 0, 1], err.length), err]);
    expect(parseIcmp(4, datagram, '198.18.2.2', -1)).toMatchObject({
      kind: 'time-exceeded',
      id: 0x4242,
      seq: 3,
      from: '198.18.2.2',
      quotedDestination: '198.19.1.21',
    });
  });

  it('reads an ICMPv6 unreachable with the quoted IPv6 request', () => {
    const inner = Buffer.alloc(48);
    inner[0] = 0x60;
    inner[6] = 58;
    Buffer.from('20010db8000100030000000000000010', 'hex').copy(inner, 24);
    inner[40] = 128;
    inner.writeUInt16BE(0x0102, 44);
    inner.writeUInt16BE(5, 46);
    const msg = Buffer.concat([Buffer.from([1, 3, 0, 0, 0, 0, 0, 0]), inner]);
    expect(parseIcmp(6, msg, '2001:db8:0:7::2', 64)).toMatchObject({
      kind: 'unreachable',
      code: 3,
      id: 0x0102,
      seq: 5,
      ttl: 64,
      quotedDestination: '2001:db8:1:3::10',
    });
    expect(unreachableReason(6, 3)).toBe('address');
    expect(unreachableReason(4, 1)).toBe('host');
  });

  it('drops an IPv4 reply whose checksum is wrong (raw sockets see datagrams before the kernel checks them)', () => {
    const reply = Buffer.from([0, 0, 0x12, 0x34, 0x12, 0x34, 0, 9]);
    expect(
      parseIcmp(4, Buffer.concat([ipv4Header(57, [192, 0, 2, 1], [198, 18, 0, 1], 8), reply]), '192.0.2.1', -1),
    ).toBeUndefined();
  });

  it.each([
    ['empty', Buffer.alloc(0)],
    ['a header only', ipv4Header(64, [1, 2, 3, 4], [5, 6, 7, 8], 0)],
    ['a bad IHL', Buffer.from([0x41, ...Buffer.alloc(30)])],
    [
      'an error quoting nothing',
      Buffer.concat([ipv4Header(64, [1, 2, 3, 4], [5, 6, 7, 8], 8), icmpV4(3, 1, Buffer.alloc(0))]),
    ],
    [
      'an error quoting a UDP packet',
      Buffer.concat([
        ipv4Header(64, [1, 2, 3, 4], [5, 6, 7, 8], 36),
        icmpV4(3, 3, Buffer.concat([ipv4Header(9, [1, 1, 1, 1], [2, 2, 2, 2], 8).fill(17, 9, 10), Buffer.alloc(8)])),
      ]),
    ],
  ])('ignores %s', (_what, data) => {
    expect(parseIcmp(4, data, '192.0.2.1', -1)).toBeUndefined();
  });

  it('never throws on random datagrams (10,000 of them, both families)', () => {
    for (let i = 0; i < 10_000; i++) {
      const data = randomBytes(i % 120);
      if (i % 3 === 0 && data.length > 0) data[0] = 0x45;
      expect(() => parseIcmp(i % 2 === 0 ? 4 : 6, data, '192.0.2.1', -1)).not.toThrow();
    }
  });

  describe('what a ping socket delivers', () => {
    const header = (type: number, id: number, seq: number) =>
      Buffer.from([type, 0, 0, 0, id >> 8, id & 0xff, seq >> 8, seq & 0xff, 0x56, 0x56]);

    it.each([4, 6] as const)('an IPv%s echo reply: no IP header, the TTL from ancillary data', (family) => {
      const m = parseDatagram(family, header(family === 4 ? 0 : 129, 0x1234, 9), '192.0.2.1', 57);
      expect(m).toMatchObject({ kind: 'echo-reply', id: 0x1234, seq: 9, ttl: 57, from: '192.0.2.1' });
    });

    it.each([
      [4, 11, 0, 'time-exceeded'],
      [4, 3, 1, 'unreachable'],
      [6, 3, 0, 'time-exceeded'],
      [6, 1, 3, 'unreachable'],
      [6, 2, 0, 'packet-too-big'],
    ] as const)('an IPv%s error (type %s code %s) from the error queue: %s', (family, type, code, kind) => {
      const quoted = header(family === 4 ? 8 : 128, 0x1234, 9);
      const m = parseDatagram(family, quoted, '198.18.0.2', 64, { type, code, destination: '198.19.1.21' });
      expect(m).toEqual({
        kind,
        code,
        id: 0x1234,
        seq: 9,
        ttl: 64,
        from: '198.18.0.2',
        quotedDestination: '198.19.1.21',
      });
    });

    it.each([
      ['short', Buffer.alloc(7), undefined],
      ['a request where a reply belongs', header(8, 1, 1), undefined],
      ['an error that does not quote a request', header(0, 1, 1), { type: 11, code: 0, destination: '192.0.2.9' }],
      ['an unknown error type', header(8, 1, 1), { type: 5, code: 0, destination: '192.0.2.9' }],
    ])('ignores %s', (_what, data, error) => {
      expect(parseDatagram(4, data, '192.0.2.1', 64, error)).toBeUndefined();
    });
  });
});
