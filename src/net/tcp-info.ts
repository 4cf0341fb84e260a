import { createRequire } from 'node:module';
import type { Socket } from 'node:net';

/** The addon in native/tcp_info.c. */
interface TcpInfoAddon {
  /** tcpi_rtt of an established socket that retransmitted nothing, else null. Throws errno errors. */
  handshakeRttUs(fd: number): number | null;
}

/** Node's types omit the libuv handle behind a socket; on Unix its `fd` is the kernel's descriptor. */
interface WithHandle {
  _handle?: { fd?: number } | null;
}

let addon: TcpInfoAddon | null | undefined;

function loadAddon(): TcpInfoAddon | null {
  if (addon === undefined) {
    try {
      // Same depth from src/net and dist/net: the project root holds build/Release.
      addon = createRequire(import.meta.url)('../../build/Release/vantage_tcp_info.node') as TcpInfoAddon;
    } catch {
      // Not built (or not Linux): the callers' own stamps stand.
      addon = null;
    }
  }
  return addon;
}

/**
 * When a connection that `connect(2)` started at `startNs` was established, as the kernel saw it:
 * the start plus its SYN to SYN-ACK time (TCP_INFO, before any data has moved), so the event
 * loop's delay before the 'connect' callback (0.3-0.6 ms on a busy agent, where the loopback
 * handshake took 5-30 us) is in no connect phase. `callbackNs`, the callback's own stamp, when the
 * kernel cannot say (addon not built, SYN retransmitted: the sample is then the last SYN's alone).
 */
export function establishedNs(socket: Socket, startNs: bigint, callbackNs: bigint): bigint {
  const native = loadAddon();
  const fd = (socket as Socket & WithHandle)._handle?.fd;
  if (!native || fd === undefined || fd < 0) return callbackNs;
  let rttUs: number | null;
  try {
    rttUs = native.handshakeRttUs(fd);
  } catch {
    return callbackNs;
  }
  if (rttUs === null) return callbackNs;
  const kernelNs = startNs + BigInt(rttUs) * 1000n;
  return kernelNs < callbackNs ? kernelNs : callbackNs;
}
