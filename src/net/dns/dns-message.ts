import { ipv6FromBytes } from '../address.js';

/**
 * DNS messages (RFC 1035, EDNS RFC 6891): encoding queries and strictly decoding responses. The
 * decoder is written for hostile input: every read is bounds-checked, compression pointers must
 * point backwards (so they cannot loop), names are capped at 255 octets, and anything off throws a
 * `DnsParseError` instead of yielding zeros or looping.
 */

const TYPE_CODES: Record<string, number> = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  OPT: 41,
  CAA: 257,
};
const TYPE_NAMES = new Map(Object.entries(TYPE_CODES).map(([name, code]) => [code, name]));
const RCODE_NAMES = [
  'NOERROR',
  'FORMERR',
  'SERVFAIL',
  'NXDOMAIN',
  'NOTIMP',
  'REFUSED',
  'YXDOMAIN',
  'YXRRSET',
  'NXRRSET',
  'NOTAUTH',
  'NOTZONE',
];

export function rcodeName(rcode: number): string {
  return RCODE_NAMES[rcode] ?? `RCODE${rcode}`;
}

function typeName(code: number): string {
  return TYPE_NAMES.get(code) ?? `TYPE${code}`;
}

export interface DnsRecord {
  name: string;
  type: string;
  ttl: number;
  /** Presentation form: an address, a name, `10 mx.example.`, quoted TXT strings, SOA fields. */
  data: string;
}

export interface DnsFlags {
  aa: boolean;
  tc: boolean;
  rd: boolean;
  ra: boolean;
  ad: boolean;
  cd: boolean;
}

export interface DnsMessage {
  id: number;
  response: boolean;
  opcode: number;
  rcode: number;
  flags: DnsFlags;
  question: { name: string; type: string } | null;
  answers: DnsRecord[];
  authorities: DnsRecord[];
  additionals: DnsRecord[];
  /** The OPT record's advertised UDP payload size, when the message has one. */
  ednsUdpSize: number | null;
}

export class DnsParseError extends Error {
  override readonly name = 'DnsParseError';
}

export interface QueryOptions {
  id: number;
  name: string;
  type: string;
  /** Recursion desired. Default true. */
  recursion?: boolean;
  /** Advertise EDNS with this UDP payload size (RFC 6891); undefined: plain DNS. */
  ednsUdpSize?: number;
}

/** Encodes a standard query for one name and type. */
export function encodeQuery(opts: QueryOptions): Buffer {
  const qtype = TYPE_CODES[opts.type.toUpperCase()];
  if (qtype === undefined) throw new DnsParseError(`unsupported record type ${opts.type}`);
  const name = encodeName(opts.name);
  const edns = opts.ednsUdpSize !== undefined;
  const buf = Buffer.alloc(12 + name.length + 4 + (edns ? 11 : 0));
  buf.writeUInt16BE(opts.id & 0xffff, 0);
  buf.writeUInt16BE((opts.recursion ?? true) ? 0x0100 : 0, 2);
  buf.writeUInt16BE(1, 4);
  buf.writeUInt16BE(edns ? 1 : 0, 10);
  name.copy(buf, 12);
  let at = 12 + name.length;
  buf.writeUInt16BE(qtype, at);
  buf.writeUInt16BE(1, at + 2);
  at += 4;
  if (edns) {
    // OPT: root name, type 41, class = UDP size, TTL 0 (rcode/version/flags), no options.
    buf[at] = 0;
    buf.writeUInt16BE(41, at + 1);
    buf.writeUInt16BE(opts.ednsUdpSize!, at + 3);
  }
  return buf;
}

function encodeName(name: string): Buffer {
  const labels = name
    .replace(/\.$/, '')
    .split('.')
    .filter((l) => l.length > 0);
  const parts: Buffer[] = [];
  for (const label of labels) {
    const bytes = Buffer.from(label, 'utf8');
    if (bytes.length > 63) throw new DnsParseError(`label "${label}" is longer than 63 octets`);
    parts.push(Buffer.from([bytes.length]), bytes);
  }
  parts.push(Buffer.from([0]));
  const out = Buffer.concat(parts);
  if (out.length > 255) throw new DnsParseError(`name ${name} is longer than 255 octets`);
  return out;
}

/** Decodes a whole message; throws `DnsParseError` on anything malformed. */
export function decodeMessage(buf: Buffer): DnsMessage {
  const r = new Reader(buf);
  const id = r.u16();
  const bits = r.u16();
  const counts = [r.u16(), r.u16(), r.u16(), r.u16()] as const;
  if (counts[0] > 1) throw new DnsParseError(`${counts[0]} questions in one message`);
  let question: DnsMessage['question'] = null;
  if (counts[0] === 1) {
    const name = r.name();
    const type = typeName(r.u16());
    r.u16();
    question = { name, type };
  }
  const section = (n: number): DnsRecord[] => Array.from({ length: n }, () => r.record());
  const answers = section(counts[1]);
  const authorities = section(counts[2]);
  const rawAdditionals = section(counts[3]);
  const opt = rawAdditionals.find((rec) => rec.type === 'OPT');
  const extended = opt ? Number(opt.data.split(' ')[1] ?? 0) : 0;
  return {
    id,
    response: (bits & 0x8000) !== 0,
    opcode: (bits >> 11) & 0xf,
    rcode: (extended << 4) | (bits & 0xf),
    flags: {
      aa: (bits & 0x0400) !== 0,
      tc: (bits & 0x0200) !== 0,
      rd: (bits & 0x0100) !== 0,
      ra: (bits & 0x0080) !== 0,
      ad: (bits & 0x0020) !== 0,
      cd: (bits & 0x0010) !== 0,
    },
    question,
    answers,
    authorities,
    additionals: rawAdditionals.filter((rec) => rec.type !== 'OPT'),
    ednsUdpSize: opt ? Number(opt.data.split(' ')[0]) : null,
  };
}

class Reader {
  private at = 0;

  constructor(private readonly buf: Buffer) {}

  private need(n: number, what: string): void {
    if (this.at + n > this.buf.length)
      throw new DnsParseError(`truncated message: ${what} needs ${n} more bytes at offset ${this.at}`);
  }

  u8(): number {
    this.need(1, 'a byte');
    return this.buf[this.at++]!;
  }

  u16(): number {
    this.need(2, 'a 16-bit field');
    const v = this.buf.readUInt16BE(this.at);
    this.at += 2;
    return v;
  }

  u32(): number {
    this.need(4, 'a 32-bit field');
    const v = this.buf.readUInt32BE(this.at);
    this.at += 4;
    return v;
  }

  bytes(n: number): Buffer {
    this.need(n, 'record data');
    const out = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }

  /** A possibly compressed name; pointers may only go backwards, which rules out loops. */
  name(): string {
    const labels: string[] = [];
    let octets = 1;
    let pos = this.at;
    let jumped = false;
    let lowestTarget = pos;
    for (;;) {
      if (pos >= this.buf.length) throw new DnsParseError(`truncated name at offset ${pos}`);
      const len = this.buf[pos]!;
      if ((len & 0xc0) === 0xc0) {
        if (pos + 1 >= this.buf.length) throw new DnsParseError(`truncated compression pointer at offset ${pos}`);
        const target = ((len & 0x3f) << 8) | this.buf[pos + 1]!;
        if (target >= lowestTarget)
          throw new DnsParseError(`compression pointer at offset ${pos} does not point backwards (to ${target})`);
        if (!jumped) this.at = pos + 2;
        jumped = true;
        lowestTarget = target;
        pos = target;
        continue;
      }
      if ((len & 0xc0) !== 0) throw new DnsParseError(`unsupported label type 0x${len.toString(16)} at offset ${pos}`);
      if (len === 0) {
        if (!jumped) this.at = pos + 1;
        return labels.length === 0 ? '.' : `${labels.join('.')}.`;
      }
      octets += len + 1;
      if (octets > 255) throw new DnsParseError('name longer than 255 octets');
      if (pos + 1 + len > this.buf.length) throw new DnsParseError(`truncated label at offset ${pos}`);
      labels.push(this.buf.toString('latin1', pos + 1, pos + 1 + len));
      pos += 1 + len;
    }
  }

  record(): DnsRecord {
    const name = this.name();
    const typeCode = this.u16();
    const klass = this.u16();
    const ttl = this.u32();
    const length = this.u16();
    this.need(length, 'record data');
    const end = this.at + length;
    const type = typeName(typeCode);
    const data = this.rdata(typeCode, length, klass, ttl);
    if (this.at !== end)
      throw new DnsParseError(
        `${type} record data is ${length} bytes but its content took ${this.at - (end - length)}`,
      );
    return { name, type, ttl: typeCode === 41 ? 0 : ttl, data };
  }

  private rdata(type: number, length: number, klass: number, ttl: number): string {
    switch (type) {
      case 1:
        if (length !== 4) throw new DnsParseError(`A record of ${length} bytes`);
        return [...this.bytes(4)].join('.');
      case 28:
        if (length !== 16) throw new DnsParseError(`AAAA record of ${length} bytes`);
        return ipv6FromBytes(this.bytes(16));
      case 2:
      case 5:
      case 12:
        return this.name();
      case 15: {
        const preference = this.u16();
        return `${preference} ${this.name()}`;
      }
      case 6:
        return `${this.name()} ${this.name()} ${this.u32()} ${this.u32()} ${this.u32()} ${this.u32()} ${this.u32()}`;
      case 16: {
        const strings: string[] = [];
        const end = this.at + length;
        while (this.at < end) {
          const n = this.u8();
          if (this.at + n > end) throw new DnsParseError('TXT string runs past its record');
          strings.push(JSON.stringify(this.bytes(n).toString('utf8')));
        }
        return strings.join(' ');
      }
      case 41:
        // OPT: "udp-size extended-rcode"; options are skipped.
        this.bytes(length);
        return `${klass} ${ttl >>> 24}`;
      default:
        return `\\# ${length} ${this.bytes(length).toString('hex')}`;
    }
  }
}
