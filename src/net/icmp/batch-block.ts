import { ipv6FromBytes } from '../address.js';
import { BATCH_FIELD } from './native.js';
import type { BatchLayout } from './native.js';

/** Slots of the IPv4 text cache (2^15, 384 KB: at 10,000 targets one reply in seven builds its text). */
const V4_SLOT_BITS = 15;

/**
 * IPv4 source addresses as text, direct-mapped by a hash of their 32 bits: replies come from the
 * addresses probed, so a reply's text is mostly one built before (a Map lookup cost as much as
 * building it). One for every block, made at the first IPv4 source: one per block grew the agent of
 * 1,000 DNS checks by 14 MB, its UDP sockets' pooled blocks each holding one.
 */
class Ipv4Texts {
  private readonly bits = new Int32Array(1 << V4_SLOT_BITS);
  private readonly texts: string[] = new Array<string>(1 << V4_SLOT_BITS).fill('');

  /** The text of the address in `b` at `at` (4 bytes). */
  of(b: Buffer, at: number): string {
    const bits = (b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!;
    const slot = Math.imul(bits, 0x9e3779b1) >>> (32 - V4_SLOT_BITS);
    let text = this.texts[slot]!;
    // '' is an empty slot (bits 0 there is also 0.0.0.0's).
    if (this.bits[slot] !== bits || text === '') {
      this.texts[slot] = text = `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
      this.bits[slot] = bits;
    }
    return text;
  }
}

let ipv4Texts: Ipv4Texts | undefined;

/**
 * The memory one socket's datagrams are read into, many per syscall (see BatchLayout): made once per
 * socket, so a reply costs no allocation until it is parsed. Read a batch before its callback
 * returns: the next read overwrites it.
 */
export class BatchBlock {
  readonly memory: ArrayBuffer;
  /** The whole block: datagram `i` is bytes start(i) to end(i). */
  readonly bytes: Buffer;
  private readonly stamps: BigInt64Array;
  private readonly meta: Int32Array;

  /** `bytes`: the block's size, the layout's own unless given (at least its `minBytes`). */
  constructor(
    private readonly layout: BatchLayout,
    bytes = layout.bytes,
  ) {
    this.memory = new ArrayBuffer(bytes);
    this.bytes = Buffer.from(this.memory);
    this.stamps = new BigInt64Array(this.memory, 0, layout.packets);
    this.meta = new Int32Array(this.memory, layout.meta, layout.packets * layout.fields);
  }

  /** Kernel receive stamp of datagram `i`, wall clock ns. */
  stampNs(i: number): bigint {
    return this.stamps[i]!;
  }

  field(i: number, field: (typeof BATCH_FIELD)[keyof typeof BATCH_FIELD]): number {
    return this.meta[i * this.layout.fields + field]!;
  }

  /** Datagram `i`: a view of the block, not a copy. */
  data(i: number): Buffer {
    return this.bytes.subarray(this.start(i), this.end(i));
  }

  /** Where datagram `i` starts in `bytes`. */
  start(i: number): number {
    return this.field(i, BATCH_FIELD.offset);
  }

  /** Where datagram `i` ends in `bytes`. */
  end(i: number): number {
    return this.field(i, BATCH_FIELD.offset) + this.field(i, BATCH_FIELD.length);
  }

  /** Datagram `i`'s source address, or with `destination` a queued error's probe destination; '' when none. */
  address(i: number, destination = false): string {
    const family = this.field(i, destination ? BATCH_FIELD.destinationFamily : BATCH_FIELD.family);
    const at = this.layout.addresses + i * 32 + (destination ? 16 : 0);
    const b = this.bytes;
    if (family === 4) {
      return (ipv4Texts ??= new Ipv4Texts()).of(b, at);
    }
    return family === 6 ? ipv6FromBytes(b.subarray(at, at + 16)) : '';
  }
}
