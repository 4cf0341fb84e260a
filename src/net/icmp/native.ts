import { createRequire } from 'node:module';

/**
 * Byte offsets of the batch block a socket reads into (the addon's `batchLayout`): `packets`
 * kernel receive stamps (BigInt64, wall clock ns: compare only with `send()`'s stamps) at 0; from
 * `meta`, `fields` Int32s per datagram (BATCH_FIELD); from `addresses`, 32 bytes per datagram (the
 * source address, then a queued error's probe destination: 16 bytes each, IPv4 in the first 4);
 * from `data`, the datagrams (each at its BATCH_FIELD.offset). `bytes`: the size to allocate;
 * `minBytes`: the least a socket takes (one slot as long as the longest datagram).
 */
export interface BatchLayout {
  packets: number;
  fields: number;
  meta: number;
  addresses: number;
  data: number;
  bytes: number;
  minBytes: number;
}

/** The Int32 fields of one datagram in the batch block, in the addon's order (enum field there). */
export const BATCH_FIELD = {
  /** Byte offset of the datagram in the block. */
  offset: 0,
  /**
   * Raw IPv4: the whole IP datagram; raw IPv6 and datagram sockets: from the ICMP header on. From a
   * datagram socket's error queue: our echo request as the error quoted it, from its ICMP header.
   */
  length: 1,
  /** Hop limit / TTL of the received datagram (-1 for raw IPv4: read it from the header). */
  hopLimit: 2,
  /** Datagram sockets' queued errors: ICMP type and code of the error (type -1: not an error). */
  errorType: 3,
  errorCode: 4,
  /** 4 or 6: the source address's family (of a queued error: the router or host that sent it); 0: none. */
  family: 5,
  /** Queued errors: the family of the probe's destination (0: none). */
  destinationFamily: 6,
} as const;

export type NativeHandle = object & { readonly __brand?: 'NativeIcmpHandle' };

/** The addon in native/icmp_socket.c (built by node-gyp during npm ci). */
export interface NativeIcmp {
  readonly batchLayout: BatchLayout;
  /**
   * Opens a raw ICMP socket (`identifier` < 0; needs CAP_NET_RAW) or a Linux ping socket (SOCK_DGRAM,
   * no capability: net.ipv4.ping_group_range) bound to echo identifier `identifier`: the kernel
   * writes it into every request and delivers only replies and errors carrying it. Datagrams are
   * read many per syscall into `memory` (batchLayout.bytes long) and `onBatch(count)` is called per
   * read: the block is reused by the next, so read it before returning. Throws errno errors
   * (`code`: EPERM without CAP_NET_RAW, EACCES when the group is not allowed).
   */
  openBatch(
    family: 4 | 6,
    identifier: number,
    memory: ArrayBuffer,
    onBatch: (count: number) => void,
    onError: (errno: number, message: string) => void,
  ): NativeHandle;
  /**
   * Opens a UDP socket connected to `address`:`port` (only that peer's datagrams arrive), read and
   * stamped as `openBatch`'s are, its ICMP errors (port unreachable) on the error queue as batch
   * entries with an `errorType`: DNS over UDP (net/dns/udp-stamped.ts). `send` it with an empty address.
   */
  openUdp(
    family: 4 | 6,
    address: string,
    port: number,
    memory: ArrayBuffer,
    onBatch: (count: number) => void,
    onError: (errno: number, message: string) => void,
  ): NativeHandle;
  /** Reads everything the socket has queued now, calling its onBatch as it goes (an errno error goes to onError). */
  read(handle: NativeHandle): void;
  /**
   * Sends one datagram to `address` ('' on a connected socket); returns the wall-clock stamp (ns)
   * taken right before sendmsg. Throws errno errors (`code`).
   */
  send(handle: NativeHandle, data: Buffer, address: string, ttl: number, tos: number, source: string): bigint;
  /**
   * true: DF on every packet (IP_PMTUDISC_DO); false: never (IP_PMTUDISC_DONT); null: DF while the
   * packet fits the route's MTU (IP_PMTUDISC_WANT; see family-socket.ts for when).
   */
  setDontFragment(handle: NativeHandle, dontFragment: boolean | null): void;
  close(handle: NativeHandle): void;
}

let loaded: NativeIcmp | Error | undefined;

/** The addon, or the reason it cannot be loaded (not built: run `npm ci` or `npm run build:native`). */
export function loadNativeIcmp(): NativeIcmp | Error {
  if (loaded) return loaded;
  try {
    // Same depth from src/net/icmp and dist/net/icmp: the project root holds build/Release.
    const require = createRequire(import.meta.url);
    loaded = require('../../../build/Release/vantage_icmp.node') as NativeIcmp;
  } catch (err) {
    loaded = new Error(
      `the ICMP addon is not built (${(err as Error).message.split('\n')[0]}): run npm ci or npm run build:native`,
    );
  }
  return loaded;
}
