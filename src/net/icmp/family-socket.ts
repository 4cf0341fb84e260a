import { readFileSync } from 'node:fs';
import { CheckFailure } from '../../errors.js';
import type { IcmpSocketKind, IcmpSocketMode } from './echo.js';
import { BatchBlock } from './batch-block.js';
import { BATCH_FIELD } from './native.js';
import type { NativeHandle, NativeIcmp } from './native.js';
import { parseDatagram, parseIcmp } from './packet.js';
import type { IcmpFamily, IcmpMessage } from './packet.js';

/** A datagram read from a family's socket: the message (undefined when unreadable) and its kernel stamp. */
export type OnMessage = (message: IcmpMessage | undefined, stampNs: bigint) => void;

interface Handle {
  handle: NativeHandle;
  /** What the socket was last set to (see NativeIcmp.setDontFragment); undefined: never set. */
  dontFragment: boolean | null | undefined;
}

/**
 * IPv4 echo requests up to this size (576 bytes with a 20-byte IP header: the datagram every host
 * must accept, RFC 791; paths carry it in practice, though a link's MTU may be as low as 68) go
 * out without dont_fragment as Linux ping sends them: IP_PMTUDISC_WANT, DF set while the packet fits
 * the route's MTU (set explicitly, so also where net.ipv4.ip_no_pmtu_disc makes DONT the default).
 * The kernel then gives them IP ID 0 instead of drawing one from its hashed per-destination
 * generator, 4.4 % of a probe's samples at 10,000/s (perf, __ip_select_ident). On a path narrower
 * than the probe, the first probe gets a Frag Needed (reported as unreachable) and the kernel
 * fragments the next ones. Larger probes never carry DF, as asked.
 */
const PING_DF_MAX_BYTES = 576 - 20;

/** The handle key of the raw socket, and the identifier that asks openBatch for one. */
const RAW = -1;

const PING_GROUP_FIX =
  'open net.ipv4.ping_group_range to its group (sysctl -w net.ipv4.ping_group_range="0 2147483647"; Kubernetes ' +
  'pod securityContext.sysctls; the sysctl is per network namespace, so hostNetwork pods need it on the node)';
const RAW_FIX =
  'grant CAP_NET_RAW (docker run --cap-add NET_RAW; Kubernetes securityContext.capabilities.add: [NET_RAW]; or ' +
  'setcap cap_net_raw+ep on the node binary)';

/**
 * The ICMP socket(s) of one address family. Raw: one socket for every probe (replies demultiplexed
 * by the engine). Datagram (Linux ping sockets): the kernel owns the echo identifier, so there is
 * one socket per identifier the engine uses, bound to it, opened at its first probe: the identifier
 * on the wire is then still the engine's, and so is the checksum its constant-checksum payload
 * compensates (flow-stable traces hold).
 */
export class FamilySocket {
  private readonly handles = new Map<number, Handle>();

  private constructor(
    readonly kind: IcmpSocketKind,
    private readonly family: IcmpFamily,
    private readonly native: NativeIcmp,
    private readonly onMessage: OnMessage,
    private readonly onError: () => void,
  ) {}

  /**
   * Opens the family's socket of the kind `mode` asks for (auto: raw, else a ping socket bound to
   * `firstId`); a CheckFailure says why neither could be opened and how to allow one.
   */
  static open(
    native: NativeIcmp,
    family: IcmpFamily,
    mode: IcmpSocketMode,
    firstId: number,
    onMessage: OnMessage,
    onError: () => void,
  ): FamilySocket | CheckFailure {
    let rawError: unknown;
    if (mode !== 'datagram') {
      const socket = new FamilySocket('raw', family, native, onMessage, onError);
      try {
        socket.handleFor(RAW);
        return socket;
      } catch (err) {
        if (mode === 'raw' || !denied(err)) return openFailure(family, 'raw', err);
        rawError = err;
      }
    }
    const socket = new FamilySocket('datagram', family, native, onMessage, onError);
    try {
      socket.handleFor(firstId);
      return socket;
    } catch (err) {
      return openFailure(family, rawError === undefined ? 'datagram' : 'auto', err);
    }
  }

  /** Sends one echo request (`id` is its identifier); returns the wall-clock send stamp. Throws errno errors. */
  send(id: number, packet: Buffer, address: string, ttl: number, tos: number, source: string, df: boolean): bigint {
    const open = this.handleFor(this.kind === 'raw' ? RAW : id);
    const fragmentation = df || (this.family === 4 && packet.length <= PING_DF_MAX_BYTES ? null : false);
    // One syscall per change, not per probe (checks of both sizes on one raw socket pay one per switch).
    if (open.dontFragment !== fragmentation) {
      this.native.setDontFragment(open.handle, fragmentation);
      open.dontFragment = fragmentation;
    }
    return this.native.send(open.handle, packet, address, ttl, tos, source);
  }

  /** Reads every datagram queued now (see IcmpEngine: before deadlines are judged). */
  read(): void {
    for (const { handle } of this.handles.values()) this.native.read(handle);
  }

  close(): void {
    for (const { handle } of this.handles.values()) this.native.close(handle);
    this.handles.clear();
  }

  private handleFor(id: number): Handle {
    let open = this.handles.get(id);
    if (open) return open;
    const block = new BatchBlock(this.native.batchLayout);
    const handle = this.native.openBatch(
      this.family,
      id,
      block.memory,
      (count) => this.readBatch(block, count),
      this.onError,
    );
    this.handles.set(id, (open = { handle, dontFragment: undefined }));
    return open;
  }

  private readBatch(block: BatchBlock, count: number): void {
    for (let i = 0; i < count; i++) {
      const hopLimit = block.field(i, BATCH_FIELD.hopLimit);
      const errorType = block.field(i, BATCH_FIELD.errorType);
      const message =
        this.kind === 'raw'
          ? parseIcmp(this.family, block.bytes, block.address(i), hopLimit, block.start(i), block.end(i))
          : parseDatagram(
              this.family,
              block.bytes,
              block.address(i),
              hopLimit,
              errorType < 0
                ? undefined
                : { type: errorType, code: block.field(i, BATCH_FIELD.errorCode), destination: block.address(i, true) },
              block.start(i),
              block.end(i),
            );
      this.onMessage(message, block.stampNs(i));
    }
  }
}

function denied(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'EPERM' || code === 'EACCES';
}

function openFailure(family: IcmpFamily, tried: IcmpSocketMode, err: unknown): CheckFailure {
  const code = (err as NodeJS.ErrnoException).code;
  // A kernel without this family (ipv6.disable=1) is not a missing permission (see the engine's stats).
  if (code === 'EAFNOSUPPORT') {
    return new CheckFailure(
      'ICMP_UNAVAILABLE',
      `this kernel has no IPv${family} (EAFNOSUPPORT): probe the target's other family (ip_family)`,
      'ping',
      { cause: err },
    );
  }
  if (!denied(err))
    return new CheckFailure(
      'ICMP_UNAVAILABLE',
      `cannot open an ICMPv${family} socket: ${(err as Error).message}`,
      'ping',
      {
        cause: err,
      },
    );
  const group = `gid ${process.getgid?.() ?? '?'}, net.ipv4.ping_group_range ${pingGroupRange()}`;
  const message =
    tried === 'raw'
      ? `raw ICMP sockets need CAP_NET_RAW: ${RAW_FIX}; or use ping sockets (icmp_socket: auto or datagram) and ` +
        PING_GROUP_FIX
      : tried === 'datagram'
        ? `ping sockets are not allowed to this process's group (${group}): ${PING_GROUP_FIX}; or ${RAW_FIX} and ` +
          'set icmp_socket: raw or auto'
        : `neither a raw ICMP socket (no CAP_NET_RAW) nor a ping socket (${group}) may be opened: ${RAW_FIX}; or ` +
          PING_GROUP_FIX;
  return new CheckFailure('ICMP_UNAVAILABLE', message, 'ping', { cause: err });
}

/** The sysctl as the kernel shows it to this process's network namespace ("1 0": nobody). */
function pingGroupRange(): string {
  try {
    return `"${readFileSync('/proc/sys/net/ipv4/ping_group_range', 'utf8').trim().replace(/\s+/, ' ')}"`;
  } catch {
    return 'unreadable';
  }
}
