import { ipv6FromBytes } from '../address.js';

/**
 * ICMP and ICMPv6 echo packets: building requests and reading what comes back. Everything read
 * from the wire is bounds-checked: a short, truncated or hostile datagram yields `undefined`,
 * never an exception.
 */

export type IcmpFamily = 4 | 6;

const ECHO_REQUEST = { 4: 8, 6: 128 } as const;
const ECHO_REPLY = { 4: 0, 6: 129 } as const;
const ERROR_TYPES = {
  4: { 3: 'unreachable', 11: 'time-exceeded', 12: 'parameter-problem' },
  6: { 1: 'unreachable', 2: 'packet-too-big', 3: 'time-exceeded', 4: 'parameter-problem' },
} as const;

export type IcmpErrorKind = 'unreachable' | 'time-exceeded' | 'parameter-problem' | 'packet-too-big';

export type IcmpMessage =
  | { kind: 'echo-reply'; id: number; seq: number; ttl: number; from: string }
  /** An error about one of our echo requests: `id`/`seq` come from the quoted request. */
  | {
      kind: IcmpErrorKind;
      code: number;
      id: number;
      seq: number;
      ttl: number;
      from: string;
      quotedDestination: string;
    };

/**
 * An echo request: type, code 0, checksum, identifier, sequence, then `payload`. With
 * `constantChecksum` the first two payload bytes are set so that identifier, sequence and those
 * bytes always sum to the same value: the checksum is then the same for every probe, so load
 * balancers that hash the ICMP header ("Paris traceroute") send a whole trace along one path.
 */
export function echoRequest(
  family: IcmpFamily,
  id: number,
  seq: number,
  payload: Buffer,
  constantChecksum = false,
): Buffer {
  const packet = Buffer.alloc(8 + Math.max(payload.length, constantChecksum ? 2 : 0));
  packet[0] = ECHO_REQUEST[family];
  payload.copy(packet, 8);
  // Identifier and sequence 0: the compensation that keeps the sum constant is then 0xffff.
  if (constantChecksum) packet.writeUInt16BE(0xffff, 8);
  // The kernel computes ICMPv6 checksums (they cover a pseudo-header); ICMPv4's is ours.
  if (family === 4) packet.writeUInt16BE(inetChecksum(packet), 2);
  return readdressEcho(packet, family, id, seq, constantChecksum);
}

/**
 * Gives an echo request made by echoRequest (with the same `constantChecksum`) another identifier
 * and sequence, in place: the engine sends every probe of a size from one template packet (the
 * kernel copies it at sendmsg), instead of allocating a packet per probe. The IPv4 checksum is
 * updated for the two changed words (RFC 1624), not summed again over the whole packet.
 */
export function readdressEcho(
  packet: Buffer,
  family: IcmpFamily,
  id: number,
  seq: number,
  constantChecksum: boolean,
): Buffer {
  // Byte by byte: Buffer's read and write methods were a property lookup each, per probe.
  const oldId = (packet[4]! << 8) | packet[5]!;
  const oldSeq = (packet[6]! << 8) | packet[7]!;
  setWord(packet, 4, id);
  setWord(packet, 6, seq);
  if (constantChecksum) {
    // Compensate identifier and sequence, so the checksum is the same for every probe, and for
    // every process too: a restart must not move the trace to another ECMP branch.
    const folded = (id & 0xffff) + (seq & 0xffff);
    setWord(packet, 8, ~((folded & 0xffff) + (folded >>> 16)));
  } else if (family === 4) {
    let sum = (~((packet[2]! << 8) | packet[3]!) & 0xffff) + (~oldId & 0xffff) + (id & 0xffff) + (~oldSeq & 0xffff);
    sum += seq & 0xffff;
    sum = (sum & 0xffff) + (sum >>> 16);
    sum = (sum & 0xffff) + (sum >>> 16);
    setWord(packet, 2, ~sum);
  }
  return packet;
}

/** Writes the low 16 bits of `value` at `at`, big-endian. */
function setWord(packet: Buffer, at: number, value: number): void {
  packet[at] = (value >>> 8) & 0xff;
  packet[at + 1] = value & 0xff;
}

/** The Internet checksum (RFC 1071) of `data` from byte `start` to `end`. */
export function inetChecksum(data: Buffer, start = 0, end = data.length): number {
  let sum = 0;
  let i = start;
  for (; i + 1 < end; i += 2) sum += (data[i]! << 8) | data[i + 1]!;
  if (i < end) sum += data[i]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/**
 * Reads a received datagram (IPv4 with its IP header; IPv6 from the ICMPv6 header): `data` from
 * `start` to `end`, read in place (a view per reply was garbage to collect).
 */
export function parseIcmp(
  family: IcmpFamily,
  data: Buffer,
  from: string,
  hopLimit: number,
  start = 0,
  end = data.length,
): IcmpMessage | undefined {
  let at = start;
  let ttl = hopLimit;
  if (family === 4) {
    if (end - start < 20 || data[start]! >> 4 !== 4) return undefined;
    at = start + (data[start]! & 0x0f) * 4;
    if (at < start + 20 || end < at + 8) return undefined;
    ttl = data[start + 8]!;
    // Raw IPv4 sockets see datagrams before the kernel checks them: drop a corrupted one.
    if (inetChecksum(data, at, end) !== 0) return undefined;
  }
  if (end < at + 8) return undefined;
  const type = data[at]!;
  const code = data[at + 1]!;
  if (type === ECHO_REPLY[family]) {
    return {
      kind: 'echo-reply',
      id: (data[at + 4]! << 8) | data[at + 5]!,
      seq: (data[at + 6]! << 8) | data[at + 7]!,
      ttl,
      from,
    };
  }
  const kind = (ERROR_TYPES[family] as Record<number, IcmpErrorKind | undefined>)[type];
  if (!kind) return undefined;
  const quoted = quotedEcho(family, data.subarray(at + 8, end));
  if (!quoted) return undefined;
  return { kind, code, id: quoted.id, seq: quoted.seq, ttl, from, quotedDestination: quoted.destination };
}

/**
 * Reads what a ping (datagram) socket delivers: an echo reply from its ICMP header (`ttl` from
 * ancillary data), or a queued error whose ICMP type, code and probe destination came as ancillary
 * data and whose bytes are our request's ICMP header as the error quoted it.
 */
export function parseDatagram(
  family: IcmpFamily,
  data: Buffer,
  from: string,
  ttl: number,
  error?: { type: number; code: number; destination: string },
  start = 0,
  end = data.length,
): IcmpMessage | undefined {
  if (end - start < 8) return undefined;
  const id = (data[start + 4]! << 8) | data[start + 5]!;
  const seq = (data[start + 6]! << 8) | data[start + 7]!;
  if (!error) {
    if (data[start] !== ECHO_REPLY[family]) return undefined;
    return { kind: 'echo-reply', id, seq, ttl, from };
  }
  const kind = (ERROR_TYPES[family] as Record<number, IcmpErrorKind | undefined>)[error.type];
  if (!kind || data[start] !== ECHO_REQUEST[family]) return undefined;
  return { kind, code: error.code, id, seq, ttl, from, quotedDestination: error.destination };
}

/** The echo request quoted in an ICMP error: its IP header plus at least 8 bytes of ICMP. */
function quotedEcho(family: IcmpFamily, quoted: Buffer): { id: number; seq: number; destination: string } | undefined {
  if (family === 4) {
    if (quoted.length < 28 || quoted[0]! >> 4 !== 4 || quoted[9] !== 1) return undefined;
    const ihl = (quoted[0]! & 0x0f) * 4;
    if (ihl < 20 || quoted.length < ihl + 8 || quoted[ihl] !== ECHO_REQUEST[4]) return undefined;
    return {
      id: quoted.readUInt16BE(ihl + 4),
      seq: quoted.readUInt16BE(ihl + 6),
      destination: [...quoted.subarray(16, 20)].join('.'),
    };
  }
  // IPv6 header (40 bytes), next header ICMPv6 (58); extension headers are not walked.
  if (quoted.length < 48 || quoted[0]! >> 4 !== 6 || quoted[6] !== 58 || quoted[40] !== ECHO_REQUEST[6])
    return undefined;
  return {
    id: quoted.readUInt16BE(44),
    seq: quoted.readUInt16BE(46),
    destination: ipv6FromBytes(quoted.subarray(24, 40)),
  };
}

/** Names of Destination Unreachable codes, as ping prints them. */
export function unreachableReason(family: IcmpFamily, code: number): string {
  const v4: Record<number, string> = {
    0: 'net',
    1: 'host',
    2: 'protocol',
    3: 'port',
    4: 'fragmentation needed',
    9: 'net prohibited',
    10: 'host prohibited',
    13: 'prohibited',
  };
  const v6: Record<number, string> = {
    0: 'no route',
    1: 'prohibited',
    2: 'beyond scope',
    3: 'address',
    4: 'port',
    5: 'source policy',
    6: 'reject route',
  };
  return (family === 4 ? v4 : v6)[code] ?? `code ${code}`;
}
