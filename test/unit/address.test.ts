import { isIP } from 'node:net';
import { describe, expect, it } from 'vitest';
import { isIpv4Literal } from '../../src/net/address.js';

describe('isIpv4Literal', () => {
  it('accepts exactly what isIP takes for IPv4', () => {
    const edges = [
      '0.0.0.0',
      '255.255.255.255',
      '127.1.0.1',
      '256.1.1.1',
      '1.2.3',
      '1.2.3.4.5',
      '01.2.3.4',
      '1.2.3.04',
      '1..2.3',
      '.1.2.3',
      '1.2.3.',
      '1.2.3.4 ',
      '1.2.3.-4',
      '1234.1.1.1',
      '::ffff:1.2.3.4',
      '',
      'a.b.c.d',
      '1.2.3.4\n',
    ];
    // Random strings over the characters that matter, lengths 0-16.
    let seed = 7;
    const random = (n: number): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff), seed % n);
    const chars = '0123456789..:x';
    const randoms = Array.from({ length: 20_000 }, () =>
      Array.from({ length: random(17) }, () => chars[random(chars.length)]).join(''),
    );
    // And valid addresses with one character changed.
    const mutated = Array.from({ length: 5_000 }, () => {
      const ip = [random(300), random(256), random(256), random(300)].join('.');
      const at = random(ip.length);
      return ip.slice(0, at) + chars[random(chars.length)] + ip.slice(at + 1);
    });
    for (const text of [...edges, ...randoms, ...mutated])
      expect([text, isIpv4Literal(text)]).toEqual([text, isIP(text) === 4]);
    expect(randoms.filter((t) => isIP(t) === 4).length + mutated.filter((t) => isIP(t) === 4).length).toBeGreaterThan(
      100,
    );
  });
});
