// The ICMP engine's contract as checks, traces and metrics see it: what a probe asks for, what it
// comes back with, and the engine's counters. The engine itself is icmp-engine.ts.
import type { CheckFailure } from '../../errors.js';
import type { IcmpErrorKind, IcmpFamily } from './packet.js';

/** Duplicate replies counted for a caller (every probe of one ping run shares one). */
export interface DuplicateTally {
  count: number;
}

export interface EchoRequest {
  address: string;
  family: IcmpFamily;
  /** Per-packet TTL / hop limit; 0 = the system default. */
  ttl?: number;
  /** ToS / traffic class byte; 0 = default. */
  tos?: number;
  /** Payload bytes after the 8-byte ICMP header. Default 56 (as ping). */
  payloadSize?: number;
  dontFragment?: boolean;
  /** Source address to send from; '' = the kernel's choice. */
  source?: string;
  /** How long to wait for an answer, from the moment the probe is asked for. */
  timeoutMs: number;
  signal?: AbortSignal;
  /**
   * Counts each further echo reply to this probe (a duplicate). A tally, not a callback: the engine
   * keeps it 30 s after the probe finishes, and a closure with its context per probe was about 100
   * bytes more each (3 MB at 1,000 probes/s, a heap snapshot of the scale bench).
   */
  duplicates?: DuplicateTally;
  /** One ICMP checksum for every probe, whatever its identifier and sequence ("Paris" probing). */
  constantChecksum?: boolean;
  /**
   * Called right after the packet went to the kernel: a caller that waits a while from the send
   * (traceroute's give-up) must not count a fresh engine's socket opening and warm-up echo.
   */
  onSent?: () => void;
}

/**
 * The `icmp_socket` setting. raw: SOCK_RAW, needs CAP_NET_RAW; datagram: Linux ping sockets, allowed
 * to the groups in net.ipv4.ping_group_range; auto: raw when permitted, else datagram.
 */
export const ICMP_SOCKET_MODES = ['auto', 'raw', 'datagram'] as const;
export type IcmpSocketMode = (typeof ICMP_SOCKET_MODES)[number];
export type IcmpSocketKind = Exclude<IcmpSocketMode, 'auto'>;

export type EchoOutcome =
  | { status: 'reply'; rttNs: bigint; ttl: number; from: string }
  /**
   * An echo reply with this probe's identifier and sequence from another address than the one
   * pinged (NAT, anycast, a misrouted responder: iputils ping's "DIFFERENT ADDRESS!").
   */
  | { status: 'reply-other-address'; rttNs: bigint; ttl: number; from: string }
  | { status: IcmpErrorKind; code: number; rttNs: bigint; from: string }
  | { status: 'timeout' }
  | { status: 'aborted' }
  | { status: 'failed'; failure: CheckFailure };

export interface IcmpEngineStats {
  sent: number;
  received: number;
  duplicates: number;
  late: number;
  unmatched: number;
  /** Echo replies matched by identifier and sequence that came from another address than the one pinged. */
  otherAddress: number;
  socketErrors: number;
  /** Whether an ICMP socket of each family could be opened (undefined: not tried yet). */
  available: Partial<Record<IcmpFamily, boolean>>;
  /** The kind of socket each family uses (set once one was opened). */
  socketKind: Partial<Record<IcmpFamily, IcmpSocketKind>>;
}

/** How many entries the engine's tables hold: all return to zero once probes stop (see sizes()). */
export interface IcmpEngineSizes {
  /** Probes queued or sent, not yet answered, timed out or aborted. */
  inFlight: number;
  /** Probes waiting to be sent. */
  queued: number;
  /** Deadlines in the heap (those of settled probes are dropped lazily, by their deadline at the latest). */
  deadlines: number;
  /** Finished probes remembered to recognise late and duplicate replies (30 s, forgotten as probes finish). */
  remembered: number;
}
