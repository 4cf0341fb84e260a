import { ipv6FromBytes } from '../address.js';
import { BATCH_FIELD } from './native.js';
import type { BatchLayout } from './native.js';

/**
 * The memory one socket's datagrams are read into, many per syscall (see BatchLayout): made once per
 * socket, so a reply costs no allocation until it is parsed. Read a batch before its callback
 * returns: the next read overwrites it.
 */
export class BatchBlock {
  readonly memory: ArrayBuffer;
  private readonly bytes: Buffer;
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
    const offset = this.field(i, BATCH_FIELD.offset);
    return this.bytes.subarray(offset, offset + this.field(i, BATCH_FIELD.length));
  }

  /** Datagram `i`'s source address, or with `destination` a queued error's probe destination; '' when none. */
  address(i: number, destination = false): string {
    const family = this.field(i, destination ? BATCH_FIELD.destinationFamily : BATCH_FIELD.family);
    const at = this.layout.addresses + i * 32 + (destination ? 16 : 0);
    const b = this.bytes;
    if (family === 4) return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
    return family === 6 ? ipv6FromBytes(b.subarray(at, at + 16)) : '';
  }
}
