import { isIP } from 'node:net';

/** Which address family to resolve and probe. */
export type IpFamily = 'any' | 'ipv4' | 'ipv6';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** `[2001:db8::1]` -> `2001:db8::1` (URL host names keep IPv6 brackets). */
export function stripBrackets(host: string): string {
  return host.replace(/^\[(.*)\]$/, '$1');
}

/** `ip:port`, with IPv6 addresses in brackets. */
export function hostPort(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** RFC 5952 text of a 16-byte IPv6 address (lower case, longest zero run compressed). */
export function ipv6FromBytes(bytes: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  let best = { start: -1, len: 0 };
  for (let i = 0; i < 8;) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > best.len && j - i > 1) best = { start: i, len: j - i };
    i = j;
  }
  if (best.start === -1) return groups.join(':');
  return `${groups.slice(0, best.start).join(':')}::${groups.slice(best.start + best.len).join(':')}`;
}

/**
 * Whether `text` is an IPv4 address in dotted decimal as isIP accepts it (four numbers 0-255, no
 * leading zeros): then it is its own canonical text. A character scan: no regular expression, no
 * table lookup.
 */
export function isIpv4Literal(text: string): boolean {
  let octets = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 46;
    if (c === 46) {
      if (digits === 0 || ++octets > 4) return false;
      value = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && value === 0) return false;
      value = value * 10 + (c - 48);
      if (++digits > 3 || value > 255) return false;
    } else return false;
  }
  return octets === 4;
}

/** The canonical text of an IP literal (RFC 5952 for IPv6), or undefined if it is not one. */
export function canonicalIp(text: string): string | undefined {
  const family = isIP(text);
  if (family === 4) return text;
  if (family === 6) return new URL(`http://[${text}]/`).hostname.slice(1, -1);
  return undefined;
}
