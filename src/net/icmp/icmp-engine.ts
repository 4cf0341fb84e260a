import { randomInt } from 'node:crypto';
import type { Clock } from '../../clock.js';
import { CheckFailure } from '../../errors.js';
import { DeadlineHeap } from './deadline-heap.js';
import { loadNativeIcmp } from './native.js';
import type { NativeHandle, NativeIcmp, NativePacket } from './native.js';
import { echoRequest, parseIcmp } from './packet.js';
import type { IcmpErrorKind, IcmpFamily } from './packet.js';

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
  /** How long to wait for an answer, from the send stamp. */
  timeoutMs: number;
  signal?: AbortSignal;
  /** Called for each further echo reply to this probe (a duplicate). */
  onDuplicate?: () => void;
  /** Keep the ICMP checksum independent of the sequence (flow-stable "Paris" probing). */
  constantChecksum?: boolean;
}

export type EchoOutcome =
  | { status: 'reply'; rttNs: bigint; ttl: number; from: string; kernelStamp: boolean }
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
  socketErrors: number;
  /** Whether a raw socket of each family could be opened (undefined: not tried yet). */
  available: Partial<Record<IcmpFamily, boolean>>;
}

interface Pending {
  key: number;
  request: EchoRequest;
  packet: Buffer;
  sentNs: bigint;
  resolve: (outcome: EchoOutcome) => void;
  cleanup: () => void;
}

/** After an answer or a timeout a key is remembered this long, to count duplicates and late replies. */
const RECENT_NS = 30_000_000_000n;
/** Sends per event-loop turn: bursts beyond this yield, so replies and timers are not starved. */
const SEND_BURST = 256;

const NO_RAW_SOCKET =
  'raw ICMP sockets need CAP_NET_RAW: run as root, or grant only that capability (docker run --cap-add NET_RAW; Kubernetes securityContext.capabilities.add: [NET_RAW]; or setcap cap_net_raw+ep on the node binary)';

/**
 * One raw socket per address family for the whole agent, shared by every ping and traceroute:
 * probes are told apart by (identifier, sequence), with a random identifier per process and more
 * identifiers when more than 65,536 probes are in flight. Deadlines live in one heap behind one
 * timer. RTTs are kernel receive stamp minus the stamp taken right before sendmsg.
 */
export class IcmpEngine {
  private readonly sockets: Partial<Record<IcmpFamily, NativeHandle>> = {};
  private readonly warmups: Partial<Record<IcmpFamily, Promise<void>>> = {};
  private readonly ids: number[] = [randomInt(0x10000)];
  private readonly idSet = new Set(this.ids);
  private readonly nextSeq = new Map<number, number>([[this.ids[0]!, 0]]);
  private readonly pending = new Map<number, Pending>();
  private readonly recent = new Map<number, { answered: boolean; onDuplicate?: () => void }>();
  private readonly recentQueue: Array<{ key: number; at: bigint }> = [];
  private readonly deadlines = new DeadlineHeap<Pending>();
  private readonly sendQueue: Pending[] = [];
  private cancelTimer: (() => void) | undefined;
  private timerAt: bigint | undefined;
  private flushScheduled = false;
  private closed = false;
  private readonly counters: IcmpEngineStats = { sent: 0, received: 0, duplicates: 0, late: 0, unmatched: 0, socketErrors: 0, available: {} };

  constructor(
    private readonly clock: Clock,
    private readonly native: () => NativeIcmp | Error = loadNativeIcmp,
  ) {}

  stats(): IcmpEngineStats {
    return { ...this.counters, available: { ...this.counters.available } };
  }

  /** Sends one echo request and resolves with what came back (never rejects). */
  async echo(request: EchoRequest): Promise<EchoOutcome> {
    if (this.closed || request.signal?.aborted) return { status: 'aborted' };
    const socket = this.socket(request.family);
    if (socket instanceof CheckFailure) return { status: 'failed', failure: socket };
    // The first exchange on a fresh socket runs cold kernel and addon paths between the two
    // stamps (milliseconds on loopback): make it a loopback echo of our own, not a target's.
    this.warmups[request.family] ??= this.send({ address: request.family === 4 ? '127.0.0.1' : '::1', family: request.family, timeoutMs: 200 }).then(() => undefined);
    await this.warmups[request.family];
    return this.send(request);
  }

  private send(request: EchoRequest): Promise<EchoOutcome> {
    if (this.closed || request.signal?.aborted) return Promise.resolve({ status: 'aborted' });
    const key = this.allocateKey();
    const payload = Buffer.alloc(Math.max(0, request.payloadSize ?? 56), 0x56);
    return new Promise((resolve) => {
      const entry: Pending = {
        key,
        request,
        packet: echoRequest(request.family, key >>> 16, key & 0xffff, payload, request.constantChecksum ?? false),
        sentNs: 0n,
        resolve: (outcome) => {
          entry.cleanup();
          resolve(outcome);
        },
        cleanup: () => undefined,
      };
      if (request.signal) {
        const onAbort = (): void => this.settle(entry, { status: 'aborted' }, false);
        request.signal.addEventListener('abort', onAbort, { once: true });
        entry.cleanup = () => request.signal?.removeEventListener('abort', onAbort);
      }
      this.pending.set(key, entry);
      this.sendQueue.push(entry);
      this.flush();
    });
  }

  /** Closes the sockets; probes in flight resolve as aborted. */
  close(): void {
    this.closed = true;
    this.cancelTimer?.();
    for (const entry of [...this.pending.values()]) this.settle(entry, { status: 'aborted' }, false);
    for (const family of [4, 6] as const) this.closeSocket(family);
  }

  private socket(family: IcmpFamily): NativeHandle | CheckFailure {
    const open = this.sockets[family];
    if (open) return open;
    const native = this.native();
    if (native instanceof Error) return new CheckFailure('ICMP_UNAVAILABLE', native.message, 'ping');
    try {
      const handle = native.open(
        family,
        (packets) => this.onPackets(family, packets),
        (errno, message) => this.onSocketError(family, errno, message),
      );
      this.sockets[family] = handle;
      this.counters.available[family] = true;
      return handle;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      this.counters.available[family] = false;
      const message = code === 'EPERM' || code === 'EACCES' ? NO_RAW_SOCKET : `cannot open a raw ICMPv${family === 4 ? 4 : 6} socket: ${(err as Error).message}`;
      return new CheckFailure('ICMP_UNAVAILABLE', message, 'ping', { cause: err });
    }
  }

  private closeSocket(family: IcmpFamily): void {
    const handle = this.sockets[family];
    if (!handle) return;
    delete this.sockets[family];
    delete this.warmups[family];
    const native = this.native();
    if (!(native instanceof Error)) native.close(handle);
  }

  /** A receive error closes the socket; the next probe opens a new one. */
  private onSocketError(family: IcmpFamily, _errno: number, _message: string): void {
    this.counters.socketErrors++;
    this.closeSocket(family);
  }

  private allocateKey(): number {
    for (const id of this.ids) {
      const seq = this.nextSeq.get(id) ?? 0;
      const key = id * 0x10000 + seq;
      if (this.pending.has(key)) continue;
      this.nextSeq.set(id, (seq + 1) & 0xffff);
      return key;
    }
    // Every identifier has 65,536 probes in flight: take another one.
    let id = randomInt(0x10000);
    while (this.idSet.has(id)) id = randomInt(0x10000);
    this.ids.push(id);
    this.idSet.add(id);
    this.nextSeq.set(id, 1);
    return id * 0x10000;
  }

  private flush(): void {
    const native = this.native();
    let budget = SEND_BURST;
    while (this.sendQueue.length > 0 && budget-- > 0) {
      const entry = this.sendQueue[0]!;
      if (this.pending.get(entry.key) !== entry) {
        this.sendQueue.shift();
        continue;
      }
      const { request } = entry;
      const handle = this.socket(request.family);
      if (handle instanceof CheckFailure || native instanceof Error) {
        this.sendQueue.shift();
        this.settle(entry, { status: 'failed', failure: handle instanceof CheckFailure ? handle : new CheckFailure('ICMP_UNAVAILABLE', String(native), 'ping') }, false);
        continue;
      }
      try {
        native.setDontFragment(handle, request.dontFragment ?? false);
        entry.sentNs = native.send(handle, entry.packet, request.address, request.ttl ?? 0, request.tos ?? 0, request.source ?? '');
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN' || code === 'EWOULDBLOCK' || code === 'ENOBUFS') {
          // Socket buffer full: pause a millisecond and go on; the stamp is taken at the real send.
          this.scheduleFlush(1);
          return;
        }
        this.sendQueue.shift();
        this.settle(entry, { status: 'failed', failure: new CheckFailure('ICMP_SEND_FAILED', `sending to ${request.address} failed: ${(err as Error).message}`, 'ping', { cause: err }) }, false);
        continue;
      }
      this.sendQueue.shift();
      this.counters.sent++;
      const deadline = entry.sentNs + BigInt(Math.round(request.timeoutMs * 1e6));
      this.deadlines.push(deadline, entry);
      this.armTimer();
    }
    if (this.sendQueue.length > 0) this.scheduleFlush(0);
  }

  private scheduleFlush(ms: number): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    const run = (): void => {
      this.flushScheduled = false;
      if (!this.closed) this.flush();
    };
    if (ms === 0) setImmediate(run);
    else this.clock.setTimer(ms, run);
  }

  private onPackets(family: IcmpFamily, packets: NativePacket[]): void {
    for (const packet of packets) {
      const message = parseIcmp(family, packet.data, packet.address, packet.hopLimit);
      if (!message || !this.idSet.has(message.id)) {
        // Other processes' pings, and anything we cannot read, pass through the socket too.
        if (message) continue;
        this.counters.unmatched++;
        continue;
      }
      const key = message.id * 0x10000 + message.seq;
      const entry = this.pending.get(key);
      const fromTarget = message.kind === 'echo-reply' ? message.from === entry?.request.address : message.quotedDestination === entry?.request.address;
      if (entry && fromTarget) {
        const rttNs = packet.stampNs - entry.sentNs;
        this.counters.received++;
        this.settle(
          entry,
          message.kind === 'echo-reply'
            ? { status: 'reply', rttNs, ttl: message.ttl, from: message.from, kernelStamp: packet.kernelStamp }
            : { status: message.kind, code: message.code, rttNs, from: message.from },
          true,
        );
        continue;
      }
      const seen = this.recent.get(key);
      if (seen?.answered && message.kind === 'echo-reply') {
        this.counters.duplicates++;
        seen.onDuplicate?.();
      } else if (seen && !seen.answered) {
        this.counters.late++;
      } else {
        this.counters.unmatched++;
      }
    }
  }

  /** Ends a probe once; remembers its key for a while to recognise duplicates and late replies. */
  private settle(entry: Pending, outcome: EchoOutcome, answered: boolean): void {
    if (this.pending.get(entry.key) !== entry) return;
    this.pending.delete(entry.key);
    const now = this.clock.monotonicNs();
    this.recent.set(entry.key, { answered, ...(entry.request.onDuplicate ? { onDuplicate: entry.request.onDuplicate } : {}) });
    this.recentQueue.push({ key: entry.key, at: now + RECENT_NS });
    while (this.recentQueue.length > 0 && this.recentQueue[0]!.at <= now) this.recent.delete(this.recentQueue.shift()!.key);
    entry.resolve(outcome);
  }

  private armTimer(): void {
    const next = this.deadlines.peek();
    if (next === undefined || (this.timerAt !== undefined && this.timerAt <= next)) return;
    this.cancelTimer?.();
    this.timerAt = next;
    const delayMs = Math.max(0, Number(next - this.clock.monotonicNs()) / 1e6);
    this.cancelTimer = this.clock.setTimer(Math.ceil(delayMs), () => {
      this.timerAt = undefined;
      this.cancelTimer = undefined;
      for (const entry of this.deadlines.popDue(this.clock.monotonicNs())) this.settle(entry, { status: 'timeout' }, false);
      this.armTimer();
    });
  }
}
