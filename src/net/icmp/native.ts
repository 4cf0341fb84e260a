import { createRequire } from 'node:module';

/** One datagram as the addon delivers it. */
export interface NativePacket {
  /**
   * Raw IPv4: the whole IP datagram; raw IPv6 and datagram sockets: from the ICMP header on. From a
   * datagram socket's error queue: our echo request as the error quoted it, from its ICMP header. A
   * view of one buffer shared by the packets of a wake-up (see FamilySocket: a Buffer over it).
   */
  data: Uint8Array;
  /** Source address of the datagram (of a queued error: the router or host that sent it). */
  address: string;
  /** Kernel receive stamp, wall clock (CLOCK_REALTIME) ns: compare only with `send()`'s stamps. */
  stampNs: bigint;
  /** Hop limit / TTL of the received datagram (-1 for raw IPv4: read it from the header). */
  hopLimit: number;
  /** Datagram sockets' queued errors only: ICMP type and code of the error, and the probe's destination. */
  errorType?: number;
  errorCode?: number;
  destination?: string;
}

export type NativeHandle = object & { readonly __brand?: 'NativeIcmpHandle' };

/** The addon in native/icmp_socket.c (built by node-gyp during npm ci). */
export interface NativeIcmp {
  open(
    family: 4 | 6,
    onPackets: (packets: NativePacket[]) => void,
    onError: (errno: number, message: string) => void,
  ): NativeHandle;
  /**
   * Opens a Linux ping socket (SOCK_DGRAM, no capability: net.ipv4.ping_group_range) bound to echo
   * identifier `identifier`: the kernel writes it into every request and delivers only replies and
   * errors carrying it. Throws errno errors (`code`: EACCES when the group is not allowed).
   */
  openDatagram(
    family: 4 | 6,
    identifier: number,
    onPackets: (packets: NativePacket[]) => void,
    onError: (errno: number, message: string) => void,
  ): NativeHandle;
  /** Sends one datagram; returns the wall-clock stamp (ns) taken right before sendmsg. Throws errno errors (`code`). */
  send(handle: NativeHandle, data: Buffer, address: string, ttl: number, tos: number, source: string): bigint;
  setDontFragment(handle: NativeHandle, dontFragment: boolean): void;
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
