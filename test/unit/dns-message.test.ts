import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Packet } from 'dns2';
import { decodeMessage, DnsParseError, encodeQuery, rcodeName } from '../../src/net/dns/dns-message.js';
import { parseResolver } from '../../src/checks/dns/resolver-spec.js';
import { cidrMatcher, disagreement, isBogon, parseCidr } from '../../src/checks/dns/answer-checks.js';

/** A response built with dns2 (an independent encoder), to check our decoder against. */
function response(build: (p: InstanceType<typeof Packet>) => void): Buffer {
  const p = new Packet({ id: 4242, qr: 1, aa: 1, ra: 1, rd: 1 } as never);
  p.questions.push({ name: 'web.example', type: Packet.TYPE.A, class: Packet.CLASS.IN } as never);
  build(p);
  return p.toBuffer();
}

describe('DNS messages', () => {
  it('encodes a query dns2 reads back, with EDNS', () => {
    const wire = encodeQuery({ id: 0xabcd, name: 'Web.Example.', type: 'AAAA', ednsUdpSize: 1232 });
    const parsed = Packet.parse(wire);
    expect(parsed.header.id).toBe(0xabcd);
    expect(parsed.header.rd).toBe(1);
    expect(parsed.questions[0]).toMatchObject({ name: 'Web.Example', type: Packet.TYPE.AAAA });
    expect(parsed.additionals[0]).toMatchObject({ type: Packet.TYPE.EDNS, class: 1232 });
  });

  it('decodes answers of every common type, flags, rcode and the OPT size', () => {
    const wire = response((p) => {
      p.answers.push({
        name: 'web.example',
        type: Packet.TYPE.CNAME,
        class: 1,
        ttl: 60,
        domain: 'edge.example',
      } as never);
      p.answers.push({ name: 'edge.example', type: Packet.TYPE.A, class: 1, ttl: 30, address: '192.0.2.7' } as never);
      p.answers.push({
        name: 'edge.example',
        type: Packet.TYPE.AAAA,
        class: 1,
        ttl: 30,
        address: '2001:db8:0:0:0:0:0:7',
      } as never);
      p.answers.push({
        name: 'web.example',
        type: Packet.TYPE.MX,
        class: 1,
        ttl: 30,
        exchange: 'mx.example',
        priority: 10,
      } as never);
      p.answers.push({
        name: 'web.example',
        type: Packet.TYPE.TXT,
        class: 1,
        ttl: 30,
        data: ['v=spf1 -all', 'two'],
      } as never);
      p.authorities.push({
        name: 'example',
        type: Packet.TYPE.SOA,
        class: 1,
        ttl: 30,
        primary: 'ns.example',
        admin: 'h.example',
        serial: 7,
        refresh: 1,
        retry: 2,
        expiration: 3,
        minimum: 4,
      } as never);
      p.additionals.push({ ...Packet.Resource.EDNS([]), name: '' } as never);
    });
    const m = decodeMessage(wire);
    expect(m).toMatchObject({
      id: 4242,
      response: true,
      rcode: 0,
      flags: { aa: true, ra: true, rd: true, tc: false },
      question: { name: 'web.example.', type: 'A' },
      ednsUdpSize: 4096,
    });
    expect(m.answers.map((a) => [a.type, a.data, a.ttl])).toEqual([
      ['CNAME', 'edge.example.', 60],
      ['A', '192.0.2.7', 30],
      ['AAAA', '2001:db8::7', 30],
      ['MX', '10 mx.example.', 30],
      ['TXT', '"v=spf1 -all" "two"', 30],
    ]);
    expect(m.authorities[0]?.data).toBe('ns.example. h.example. 7 1 2 3 4');
    expect(m.additionals).toEqual([]);
    expect(rcodeName(3)).toBe('NXDOMAIN');
  });

  const good = response((p) =>
    p.answers.push({ name: 'web.example', type: Packet.TYPE.A, class: 1, ttl: 30, address: '192.0.2.7' } as never),
  );

  it.each([
    ['a truncated message', good.subarray(0, good.length - 3)],
    ['a header only', good.subarray(0, 12)],
    ['less than a header', good.subarray(0, 5)],
    ['a compression pointer to itself', Buffer.from([0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1])],
    ['a forward pointer', Buffer.from([0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 20, 0, 1, 0, 1, 0, 0, 0, 0])],
    [
      'a pointer loop through two names',
      Buffer.concat([
        Buffer.from([0, 1, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0]),
        Buffer.from([1, 97, 0xc0, 16, 1, 98, 0xc0, 12, 0, 1, 0, 1]),
      ]),
    ],
    [
      'an overlong name',
      Buffer.concat([
        Buffer.from([0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0]),
        Buffer.alloc(300, 1),
        Buffer.from([0, 0, 1, 0, 1]),
      ]),
    ],
    [
      'record data longer than the message',
      Buffer.concat([good.subarray(0, good.length - 6), Buffer.from([0, 200, 1, 2, 3, 4])]),
    ],
    [
      'an A record of 5 bytes',
      (() => {
        const b = Buffer.concat([good, Buffer.from([0])]);
        b.writeUInt16BE(5, good.length - 6);
        return b;
      })(),
    ],
  ])('refuses %s with a DnsParseError', (_what, wire) => {
    expect(() => decodeMessage(wire)).toThrow(DnsParseError);
  });

  it('never throws anything but DnsParseError on 20,000 random or mutated messages', () => {
    let refused = 0;
    for (let i = 0; i < 20_000; i++) {
      const wire = i % 2 === 0 ? randomBytes(i % 200) : Buffer.from(good);
      if (i % 2 === 1) for (let k = 0; k < 3; k++) wire[(i * 7 + k * 13) % wire.length] = (i * 31 + k) & 0xff;
      try {
        decodeMessage(wire);
      } catch (err) {
        expect(err).toBeInstanceOf(DnsParseError);
        refused++;
      }
    }
    // The input was hostile: most of it must have been refused, not decoded into something.
    expect(refused).toBeGreaterThan(9_000);
  });
});

describe('resolver specs', () => {
  it.each([
    ['system', { kind: 'system' }],
    ['192.0.2.53', { transport: 'udp', host: '192.0.2.53', port: 53 }],
    ['192.0.2.53:5353', { transport: 'udp', host: '192.0.2.53', port: 5353 }],
    ['[2001:db8::53]:53', { transport: 'udp', host: '2001:db8::53', port: 53 }],
    ['2001:db8::53', { transport: 'udp', host: '2001:db8::53', port: 53 }],
    ['tcp://192.0.2.53', { transport: 'tcp', port: 53 }],
    ['tls://192.0.2.53#dns.example', { transport: 'tls', port: 853, serverName: 'dns.example' }],
    ['https://dns.example/dns-query', { transport: 'https', host: 'dns.example', port: 443, path: '/dns-query' }],
  ])('reads %s', (text, expected) => {
    expect(parseResolver(text)).toMatchObject(expected);
  });

  it.each(['udp://dns.example', '192.0.2.53:99999', 'https://'])('refuses %s with a reason', (text) => {
    expect(typeof parseResolver(text)).toBe('string');
  });
});

describe('answer checks', () => {
  it('knows bogons of both families', () => {
    expect(['10.1.2.3', '192.168.0.1', '198.19.1.10', '127.0.0.1', 'fd00::1', '2001:db8::1'].every(isBogon)).toBe(true);
    expect(['8.8.8.8', '2606:4700::1111'].some(isBogon)).toBe(false);
  });

  it('matches ranges and measures disagreement', () => {
    const inRange = cidrMatcher(['203.0.113.0/24', '2001:db8::/32']);
    expect([inRange('203.0.113.9'), inRange('203.0.114.1'), inRange('2001:db8::5')]).toEqual([true, false, true]);
    expect(typeof parseCidr('10.0.0.0/33')).toBe('string');
    expect(disagreement(['a', 'b'], ['a', 'c'])).toBe(0.5);
    expect(disagreement([], [])).toBe(0);
  });
});
