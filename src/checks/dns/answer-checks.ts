import { BlockList, isIP } from 'node:net';

/** Addresses no public name should resolve to (RFC 6890 special-purpose, plus unique-local v6). */
const BOGONS: Array<[string, number, 'ipv4' | 'ipv6']> = [
  ['0.0.0.0', 8, 'ipv4'],
  ['10.0.0.0', 8, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'],
  ['127.0.0.0', 8, 'ipv4'],
  ['169.254.0.0', 16, 'ipv4'],
  ['172.16.0.0', 12, 'ipv4'],
  ['192.0.0.0', 24, 'ipv4'],
  ['192.0.2.0', 24, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['198.18.0.0', 15, 'ipv4'],
  ['198.51.100.0', 24, 'ipv4'],
  ['203.0.113.0', 24, 'ipv4'],
  ['224.0.0.0', 4, 'ipv4'],
  ['240.0.0.0', 4, 'ipv4'],
  ['::', 128, 'ipv6'],
  ['::1', 128, 'ipv6'],
  ['::ffff:0:0', 96, 'ipv6'],
  ['64:ff9b:1::', 48, 'ipv6'],
  ['100::', 64, 'ipv6'],
  ['2001:db8::', 32, 'ipv6'],
  ['fc00::', 7, 'ipv6'],
  ['fe80::', 10, 'ipv6'],
  ['ff00::', 8, 'ipv6'],
];

/**
 * One BlockList per family: a single list would match IPv4 addresses against IPv6 ranges such as
 * ::ffff:0:0/96 (it treats them as v4-mapped), so 8.8.8.8 would look like a bogon.
 */
function familyLists(
  subnets: ReadonlyArray<{ net: string; prefix: number; type: 'ipv4' | 'ipv6' }>,
): (address: string) => boolean {
  const lists = { ipv4: new BlockList(), ipv6: new BlockList() };
  for (const { net, prefix, type } of subnets) lists[type].addSubnet(net, prefix, type);
  return (address) => {
    const family = isIP(address);
    if (family === 0) return false;
    const type = family === 4 ? 'ipv4' : 'ipv6';
    return lists[type].check(address, type);
  };
}

const inBogons = familyLists(BOGONS.map(([net, prefix, type]) => ({ net, prefix, type })));

export function isBogon(address: string): boolean {
  return inBogons(address);
}

/** Parses `a.b.c.d/n` or `v6::/n` (a bare address is a /32 or /128); a string says what is wrong. */
export function parseCidr(text: string): { net: string; prefix: number; type: 'ipv4' | 'ipv6' } | string {
  const [net = '', bits] = text.trim().split('/');
  const family = isIP(net);
  if (family === 0) return `"${text}" is not an address range (write 203.0.113.0/24 or 2001:db8::/32)`;
  const max = family === 4 ? 32 : 128;
  const prefix = bits === undefined ? max : Number(bits);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) return `"${text}" has a bad prefix length`;
  return { net, prefix, type: family === 4 ? 'ipv4' : 'ipv6' };
}

/** A set of ranges, for "is every answer where we expect it". */
export function cidrMatcher(cidrs: readonly string[]): (address: string) => boolean {
  return familyLists(
    cidrs.map(parseCidr).filter((c): c is Exclude<ReturnType<typeof parseCidr>, string> => typeof c !== 'string'),
  );
}

/** Fraction of `ours` that `reference` does not contain (0 = agree). */
export function disagreement(ours: readonly string[], reference: readonly string[]): number {
  if (ours.length === 0) return reference.length === 0 ? 0 : 1;
  const ref = new Set(reference);
  return ours.filter((a) => !ref.has(a)).length / ours.length;
}
