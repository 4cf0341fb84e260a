import type { Clock } from '../../clock.js';
import { CheckFailure } from '../../errors.js';
import { DeadlineHeap } from './deadline-heap.js';
import { loadNativeIcmp } from './native.js';
import type { NativeIcmp } from './native.js';
import type { IcmpFamily, IcmpMessage } from './packet.js';
import type { EchoOutcome, EchoRequest, IcmpEngineSizes, IcmpEngineStats, IcmpSocketMode } from './echo.js';
import { CanonicalAddresses, EchoTemplates } from './echo-templates.js';
import { FamilySocket } from './family-socket.js';
import { InFlight } from './in-flight.js';
import { ProbeKeys } from './probe-keys.js';

interface Pending {
  key: number;
  request: EchoRequest;
  address: string;
  /** Wall-clock stamp right before sendmsg (the clock of the kernel's receive stamps); 0 while queued. */
  sentNs: bigint;
  /** Monotonic ms. */
  deadlineMs: number;
  resolve: (outcome: EchoOutcome) => void;
  /** The abort listener, when the request has a signal. */
  onAbort: (() => void) | undefined;
}

/** Sends per event-loop turn: a burst beyond this waits a turn, so replies and timers are read. */
const SEND_BURST = 256;

/**
 * One ICMP socket per address family for the whole agent (raw, or a ping socket per identifier:
 * see family-socket.ts), shared by every ping and traceroute: probes are told apart by
 * (identifier, sequence) (see probe-keys.ts). Sends are queued and paced;
 * deadlines live in one heap behind one timer and are judged after the socket has been read, so a
 * busy event loop never turns a reply the kernel stamped in time into a timeout. RTT = kernel
 * receive stamp minus the stamp taken right before sendmsg, both on the wall clock (deadlines use
 * the monotonic clock).
 */
export class IcmpEngine {
  private readonly sockets: Partial<Record<IcmpFamily, FamilySocket>> = {};
  private mode: IcmpSocketMode = 'auto';
  private readonly warmups: Partial<Record<IcmpFamily, Promise<void>>> = {};
  private readonly pending = new InFlight<Pending>();
  private readonly keys = new ProbeKeys((key) => this.pending.has(key));
  private readonly deadlines = new DeadlineHeap<Pending>((entry) => entry.deadlineMs);
  private readonly sendQueue: Pending[] = [];
  private readonly templates = new EchoTemplates();
  private readonly addresses = new CanonicalAddresses();
  /** Families whose warm-up echo is done (see echo()). */
  private readonly warm: Record<IcmpFamily, boolean> = { 4: false, 6: false };
  private cancelTimer: (() => void) | undefined;
  private timerAt: number | undefined;
  private flushScheduled = false;
  /** Probes sent in this event-loop turn (at most SEND_BURST). */
  private turnSends = 0;
  private closed = false;
  private readonly counters: IcmpEngineStats = {
    sent: 0,
    received: 0,
    duplicates: 0,
    late: 0,
    unmatched: 0,
    otherAddress: 0,
    socketErrors: 0,
    available: {},
    socketKind: {},
  };

  constructor(
    private readonly clock: Clock,
    private readonly native: () => NativeIcmp | Error = loadNativeIcmp,
  ) {}

  stats(): IcmpEngineStats {
    return {
      ...this.counters,
      available: { ...this.counters.available },
      socketKind: { ...this.counters.socketKind },
    };
  }

  /** The sizes of the engine's tables: a sustained load shows here first if it outgrows the engine. */
  sizes(): IcmpEngineSizes {
    return {
      inFlight: this.pending.size,
      queued: this.sendQueue.length,
      deadlines: this.deadlines.size,
      remembered: this.keys.remembered(),
    };
  }

  /** Sends one echo request and resolves with what came back (never rejects). */
  echo(request: EchoRequest): Promise<EchoOutcome> {
    const { family } = request;
    // Warm and well-formed: straight to the queue (an await per probe was a promise and a microtask more).
    const address = this.warm[family] && this.sockets[family] && this.addresses.pingable(request.address, family);
    return address ? this.enqueue(request, address) : this.echoCold(request);
  }

  private async echoCold(request: EchoRequest): Promise<EchoOutcome> {
    if (this.closed || request.signal?.aborted) return { status: 'aborted' };
    const address = this.addresses.pingable(request.address, request.family);
    if (!address) {
      return {
        status: 'failed',
        failure: new CheckFailure(
          'ICMP_SEND_FAILED',
          `${request.address} is not an IPv${request.family} address to ping (use the plain IPv4 form of a ` +
            `v4-mapped address)`,
          'ping',
        ),
      };
    }
    const socket = this.socket(request.family);
    if (socket instanceof CheckFailure) return { status: 'failed', failure: socket };
    // The first exchange on a fresh socket runs cold kernel and addon paths between the two
    // stamps (milliseconds on loopback): make it a loopback echo of our own, not a target's.
    this.warmups[request.family] ??= this.enqueue(
      { address: request.family === 4 ? '127.0.0.1' : '::1', family: request.family, timeoutMs: 200 },
      request.family === 4 ? '127.0.0.1' : '::1',
    ).then(() => void (this.warm[request.family] = true));
    await this.warmups[request.family];
    return this.enqueue(request, address);
  }

  /**
   * Which kind of socket families opened from now on use (`icmp_socket`; default auto). Sockets
   * already open keep theirs until the agent restarts.
   */
  configure(mode: IcmpSocketMode): void {
    this.mode = mode;
  }

  /** Opens the family's socket now, so a missing permission shows at start-up, not at a probe. */
  open(family: IcmpFamily): CheckFailure | null {
    const socket = this.socket(family);
    return socket instanceof CheckFailure ? socket : null;
  }

  /** Closes the sockets; probes in flight resolve as aborted. */
  close(): void {
    this.closed = true;
    this.cancelTimer?.();
    for (const entry of this.pending.values()) this.settle(entry, { status: 'aborted' });
    for (const family of [4, 6] as const) this.closeSocket(family);
  }

  private enqueue(request: EchoRequest, address: string): Promise<EchoOutcome> {
    if (this.closed || request.signal?.aborted) return Promise.resolve({ status: 'aborted' });
    const key = this.keys.allocate();
    const nowMs = this.monotonicMs();
    return new Promise((resolve) => {
      const entry: Pending = {
        key,
        request,
        address,
        sentNs: 0n,
        // Queueing counts against the timeout: a probe never waits longer than asked for.
        deadlineMs: nowMs + request.timeoutMs,
        resolve,
        onAbort: request.signal && (() => this.settle(entry, { status: 'aborted' })),
      };
      if (entry.onAbort) request.signal?.addEventListener('abort', entry.onAbort, { once: true });
      this.pending.set(key, entry);
      this.sendQueue.push(entry);
      this.deadlines.push(entry);
      this.armTimer();
      // Out at once while this turn's budget lasts. Waiting for the check phase put whatever the
      // poll phase ran (TLS handshakes, a scrape's slice) between a run's start and its probe:
      // 2.4 ms median at 12,000 checks against 0.5 ms of scheduler lag.
      if (!this.flushScheduled && this.turnSends < SEND_BURST) this.flush();
      else this.scheduleFlush(0);
    });
  }

  /** Resolves a probe still pending (later outcomes for it are ignored) and remembers it as finished. */
  private settle(entry: Pending, outcome: EchoOutcome): void {
    const { key, request } = entry;
    if (!this.pending.delete(key, entry)) return;
    if (entry.onAbort) request.signal?.removeEventListener('abort', entry.onAbort);
    const answered = outcome.status !== 'timeout' && outcome.status !== 'aborted' && outcome.status !== 'failed';
    this.keys.finish(
      key,
      { answered, address: entry.address, duplicates: request.duplicates },
      this.clock.monotonicNs(),
    );
    entry.resolve(outcome);
  }

  private socket(family: IcmpFamily): FamilySocket | CheckFailure {
    const open = this.sockets[family];
    if (open) return open;
    const native = this.native();
    if (native instanceof Error) {
      this.counters.available[family] = false;
      return new CheckFailure('ICMP_UNAVAILABLE', native.message, 'ping');
    }
    const socket = FamilySocket.open(
      native,
      family,
      this.mode,
      this.keys.firstId(),
      (message, stampNs) => this.onMessage(message, stampNs),
      () => this.onSocketError(family),
    );
    if (socket instanceof CheckFailure) {
      // A kernel without this family (ipv6.disable=1) is not a missing permission: no metric
      // says "unavailable", so VantageIcmpUnavailable stays quiet on IPv4-only nodes.
      if ((socket.cause as NodeJS.ErrnoException | undefined)?.code === 'EAFNOSUPPORT')
        delete this.counters.available[family];
      else this.counters.available[family] = false;
      return socket;
    }
    this.sockets[family] = socket;
    this.counters.available[family] = true;
    this.counters.socketKind[family] = socket.kind;
    return socket;
  }

  private closeSocket(family: IcmpFamily): void {
    const open = this.sockets[family];
    if (!open) return;
    delete this.sockets[family];
    delete this.warmups[family];
    this.warm[family] = false;
    open.close();
  }

  /** A receive error closes the socket; the next probe opens a new one. */
  private onSocketError(family: IcmpFamily): void {
    this.counters.socketErrors++;
    this.closeSocket(family);
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

  /** Sends queued probes while this turn's budget (SEND_BURST) lasts, then yields a turn for the rest. */
  private flush(): void {
    while (this.sendQueue.length > 0 && this.turnSends < SEND_BURST) {
      const entry = this.sendQueue[0]!;
      if (this.pending.get(entry.key) !== entry) {
        this.sendQueue.shift();
        continue;
      }
      const { request } = entry;
      const socket = this.socket(request.family);
      if (socket instanceof CheckFailure) {
        this.sendQueue.shift();
        this.settle(entry, { status: 'failed', failure: socket });
        continue;
      }
      try {
        entry.sentNs = socket.send(
          entry.key >>> 16,
          this.templates.packet(
            entry.request.family,
            entry.request.payloadSize,
            entry.request.constantChecksum ?? false,
            entry.key,
          ),
          entry.address,
          request.ttl ?? 0,
          request.tos ?? 0,
          request.source ?? '',
          request.dontFragment ?? false,
        );
        request.onSent?.();
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN' || code === 'EWOULDBLOCK' || code === 'ENOBUFS') {
          // Socket buffer full: try again in a millisecond (the deadline keeps running).
          this.scheduleFlush(1);
          return;
        }
        this.sendQueue.shift();
        this.settle(entry, {
          status: 'failed',
          failure: new CheckFailure(
            'ICMP_SEND_FAILED',
            `sending to ${entry.address} failed: ${(err as Error).message}`,
            'ping',
            { cause: err },
          ),
        });
        continue;
      }
      this.sendQueue.shift();
      this.counters.sent++;
      // The turn's first send queues the immediate that opens the next turn's budget.
      if (this.turnSends++ === 0) setImmediate(() => (this.turnSends = 0));
    }
    if (this.sendQueue.length > 0) this.scheduleFlush(0);
  }

  private onMessage(message: IcmpMessage | undefined, stampNs: bigint): void {
    if (!message) {
      this.counters.unmatched++;
      return;
    }
    // Other processes' pings reach a raw socket too: not ours, not counted.
    if (!this.keys.ours(message.id)) return;
    const key = message.id * 0x10000 + message.seq;
    const entry = this.pending.get(key);
    const about = message.kind === 'echo-reply' ? message.from : message.quotedDestination;
    const rttNs = entry ? stampNs - entry.sentNs : 0n;
    // An echo reply is matched by identifier and sequence alone: one from another address is still
    // the answer to this probe, reported as such (an error is matched by the destination it quotes).
    const otherAddress = message.kind === 'echo-reply' && about !== entry?.address;
    if (entry && entry.sentNs > 0n && (about === entry.address || otherAddress) && rttNs > 0n) {
      if (otherAddress) this.counters.otherAddress++;
      else this.counters.received++;
      this.settle(
        entry,
        message.kind === 'echo-reply'
          ? { status: otherAddress ? 'reply-other-address' : 'reply', rttNs, ttl: message.ttl, from: message.from }
          : { status: message.kind, code: message.code, rttNs, from: message.from },
      );
      // The timer stays set for the deadline this answer made moot: moving it to the next one for
      // every answer (a clearTimeout and a setTimeout per reply) cost more than the wake-up it
      // saves (one per timeout period, see armTimer). None left in flight: nothing to wake for.
      if (this.deadlines.peek() === entry.deadlineMs) this.dropSettledDeadlines();
      if (this.pending.size === 0) this.stopTimer();
      return;
    }
    const finished = this.keys.recent(key);
    if (!finished || (finished.address !== about && message.kind !== 'echo-reply')) this.counters.unmatched++;
    else if (finished.answered && message.kind === 'echo-reply') {
      this.counters.duplicates++;
      if (finished.duplicates) finished.duplicates.count++;
    } else if (!finished.answered) this.counters.late++;
  }

  private dropSettledDeadlines(): void {
    this.deadlines.dropWhile(this.isSettled);
  }

  private readonly isSettled = (entry: Pending): boolean => this.pending.get(entry.key) !== entry;

  /** The engine's clock in ms: deadlines are compared as numbers (a bigint per compare in the heap was garbage). */
  private monotonicMs(): number {
    return Number(this.clock.monotonicNs()) / 1e6;
  }

  private stopTimer(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    this.timerAt = undefined;
  }

  private armTimer(): void {
    // Answered probes leave their deadline behind: skip those, or the timer wakes for each of them
    // (at a few thousand probes a second, most of the engine's CPU): it wakes at the earliest
    // deadline of a probe still in flight when it is set, at most once per timeout period if all are answered.
    this.dropSettledDeadlines();
    const next = this.deadlines.peek();
    if (next === undefined || (this.timerAt !== undefined && this.timerAt <= next)) return;
    this.cancelTimer?.();
    this.timerAt = next;
    const delayMs = Math.max(0, next - this.monotonicMs());
    this.cancelTimer = this.clock.setTimer(Math.ceil(delayMs), () => {
      this.timerAt = undefined;
      this.cancelTimer = undefined;
      // libuv runs timers before it reads sockets, and a wake-up reads a bounded number of
      // batches: judge deadlines after this turn's reads and after reading what is still queued,
      // so a reply that arrived while the loop was busy counts as the reply it is.
      setImmediate(() => {
        for (const family of [4, 6] as const) this.sockets[family]?.read();
        for (const entry of this.deadlines.popDue(this.monotonicMs())) this.settle(entry, { status: 'timeout' });
        this.armTimer();
      });
    });
  }
}
