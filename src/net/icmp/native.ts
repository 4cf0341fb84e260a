import { createRequire } from 'node:module';

/** One datagram as the addon delivers it. */
export interface NativePacket {
  /** IPv4: the whole IP datagram; IPv6: from the ICMPv6 header on (the kernel strips the IP header). */
  data: Buffer;
  /** Source address of the datagram. */
  address: string;
  /** Kernel receive stamp, wall clock (CLOCK_REALTIME) ns: compare only with `send()`'s stamps. */
  stampNs: bigint;
  /** IPv6 hop limit of the received datagram (-1 for IPv4: read it from the header). */
  hopLimit: number;
}

export type NativeHandle = object & { readonly __brand?: 'NativeIcmpHandle' };

/** The addon in native/icmp_socket.c (built by node-gyp during npm ci). */
export interface NativeIcmp {
  open(
    family: 4 | 6,
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
