import { getSystemErrorName } from 'node:util';
import type { Clock } from '../../clock.js';
import { elapsedMs } from '../../clock.js';
import { hostPort } from '../address.js';
import { BatchBlock } from '../icmp/batch-block.js';
import { BATCH_FIELD, loadNativeIcmp } from '../icmp/native.js';
import type { NativeHandle, NativeIcmp } from '../icmp/native.js';

/** What `parse` took from the answer, the answer's size, and the query's round trip. */
export interface StampedReply<T> {
  value: T;
  bytes: number;
  /** Send (stamped right before sendmsg) to the kernel's receive stamp, one clock. */
  rttMs: number;
}

/** Blocks kept for the next queries; more in flight at once get blocks of their own, then dropped. */
const KEPT_BLOCKS = 8;

/**
 * DNS over UDP with the kernel's stamps: a connected UDP socket of the ICMP addon (openUdp), read
 * as its ICMP sockets are. Node's dgram socket hands an answer over when the event loop wakes:
 * 0.3-1.5 ms after it reached the host in every exchange here, idle or busy (bench/cli-phases.mjs,
 * against a capture), and that time was the resolver's. One socket per query, as with dgram (a
 * fresh source port each); up to KEPT_BLOCKS of the blocks it reads into are kept for the next.
 */
export class StampedUdp {
  private readonly blocks: BatchBlock[] = [];

  private constructor(
    private readonly native: NativeIcmp,
    private readonly clock: Clock,
  ) {}

  /**
   * The transport, or undefined when the addon is not built, or was built before it could open UDP
   * sockets (a stale build/Release): the caller keeps Node's dgram.
   */
  static create(clock: Clock): StampedUdp | undefined {
    const native = loadNativeIcmp();
    if (native instanceof Error || typeof native.openUdp !== 'function') return undefined;
    return new StampedUdp(native, clock);
  }

  /**
   * Sends `query` to `address`:`port` and resolves with the first answer `parse` takes (it returns
   * undefined to pass over one, e.g. another id; it may throw, which rejects). Rejects with an
   * errno-style error (`code`: ECONNREFUSED for a port unreachable, EHOSTUNREACH, ENETUNREACH, or
   * the socket's own) or with the signal's reason; the socket is closed either way.
   */
  exchange<T>(
    address: string,
    port: number,
    query: Buffer,
    parse: (datagram: Buffer) => T | undefined,
    signal: AbortSignal,
  ): Promise<StampedReply<T>> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) {
        reject(signal.reason);
        return;
      }
      const family = address.includes(':') ? 6 : 4;
      // The smallest block a socket takes (69 KB: one answer as long as any datagram), not the ICMP
      // sockets' 133 KB: a query waits for one answer.
      const layout = this.native.batchLayout;
      const block = this.blocks.pop() ?? new BatchBlock(layout, layout.minBytes);
      let handle: NativeHandle | undefined;
      let settled = false;
      let startNs = 0n;
      let sentWallNs = 0n;
      const finish = (err: unknown, reply?: StampedReply<T>): void => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        if (handle) this.native.close(handle);
        if (this.blocks.length < KEPT_BLOCKS) this.blocks.push(block);
        if (reply) resolve(reply);
        else reject(err);
      };
      const onAbort = (): void => finish(signal.reason);
      const onBatch = (count: number): void => {
        const endNs = this.clock.monotonicNs();
        for (let i = 0; i < count && !settled; i++) {
          const errorType = block.field(i, BATCH_FIELD.errorType);
          if (errorType >= 0) {
            finish(icmpError(family, errorType, block.field(i, BATCH_FIELD.errorCode), address, port));
            return;
          }
          // A copy: the block is read into again, and a decoded answer may keep slices of it.
          const datagram = Buffer.from(block.data(i));
          let value: T | undefined;
          try {
            value = parse(datagram);
          } catch (err) {
            finish(err);
            return;
          }
          if (value === undefined) continue;
          // The wall clock is both stamps' (the kernel's is): stepped during the exchange, the
          // difference would be wrong, and the loop's own monotonic measure stands in.
          const rttMs = Number(block.stampNs(i) - sentWallNs) / 1e6;
          const loopMs = elapsedMs(startNs, endNs);
          finish(undefined, { value, bytes: datagram.length, rttMs: rttMs > 0 && rttMs <= loopMs ? rttMs : loopMs });
        }
      };
      try {
        handle = this.native.openUdp(family, address, port, block.memory, onBatch, (errno, message) =>
          finish(errnoError(errno, message)),
        );
        startNs = this.clock.monotonicNs();
        sentWallNs = this.native.send(handle, query, '', 0, 0, '');
      } catch (err) {
        finish(err);
        return;
      }
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}

/** An ICMP error about the query, as the errno a connected dgram socket reports it. */
function icmpError(family: 4 | 6, type: number, code: number, address: string, port: number): Error {
  // Destination unreachable is IPv4 type 3 (net 0, host 1, port 3), IPv6 type 1 (no route 0, port 4).
  const portCode = family === 4 ? 3 : 4;
  let name = 'EHOSTUNREACH';
  if (type === (family === 4 ? 3 : 1)) {
    if (code === portCode) name = 'ECONNREFUSED';
    else if (code === 0) name = 'ENETUNREACH';
  }
  return Object.assign(new Error(`udp ${hostPort(address, port)}: ${name} (ICMP type ${type} code ${code})`), {
    code: name,
  });
}

function errnoError(errno: number, message: string): Error {
  const code = errno > 0 ? getSystemErrorName(-errno) : 'EIO';
  return Object.assign(new Error(`udp socket: ${message}`), { code, errno });
}
