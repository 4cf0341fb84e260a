import { createHash } from 'node:crypto';
import { pause } from '../../clock.js';
import type { Clock } from '../../clock.js';
import type { EchoOutcome } from '../../net/icmp/echo.js';
import type { IcmpFamily } from '../../net/icmp/packet.js';
import { unreachableReason } from '../../net/icmp/packet.js';
import type { IcmpPort } from '../../net/net-deps.js';
import type { CheckFailure } from '../../errors.js';

export interface TraceOptions {
  address: string;
  family: IcmpFamily;
  /** Highest TTL probed (default 30). */
  maxHops: number;
  /** Probes per TTL (default 3), sent in rounds. */
  probesPerHop: number;
  /** Longest wait for one probe. */
  probeTimeoutMs: number;
  /**
   * Pause between rounds. Default 0: Linux rate-limits ICMP errors with a token bucket (a burst of
   * about 6, then about 1/s), so a 3-probe round back to back costs a router the same tokens as
   * three spaced rounds; the time is better saved.
   */
  roundGapMs?: number;
  /**
   * A probe still silent once a later hop answered is given up this many of that hop's round trips
   * after it was sent, as traceroute's NEAR factor (`-w 5,3,10`). Default 5: ten of a 20 ms hop's
   * round trips would hold every trace behind a silent router for 200 ms.
   */
  nearFactor?: number;
  /** The same once another probe of its own hop answered (traceroute's HERE factor). Default 3. */
  hereFactor?: number;
  /** Least wait for a probe given up that way, ms. Default `SLOW_HOP_FLOOR_MS`. */
  floorMs?: number;
  /**
   * What each hop did in this target's recent traces (PathMemory): a hop that answered gets its
   * slowest answer's wait with margin, at least; unless the recall asks for a full wait, a hop known
   * from it is given up after `KNOWN_HOP_FLOOR_MS` at least rather than `floorMs`.
   */
  recall?: PathRecall;
  signal?: AbortSignal;
  /** Hops settled so far, out of the hops that matter (the destination's, once known, else maxHops). */
  onProgress?: (settled: number, total: number) => void;
}

/**
 * What each hop did in a target's recent traces, by TTL - 1: its slowest answer in ms, or NaN when
 * it stayed silent through a full wait (PathMemory keeps it). A TTL past the end is unknown.
 */
export type HopRecall = readonly number[];

export interface PathRecall {
  hops: HopRecall;
  /** Every hop waits `floorMs` at least (a periodic full wait); known late hops longer still. */
  fullWait: boolean;
}

export interface TraceHop {
  ttl: number;
  /** Responding addresses; more than one means per-packet load balancing at this hop. */
  addresses: string[];
  /** RTT of every answered probe, ms. */
  rttMs: number[];
  /** Unanswered probes / probes. */
  loss: number;
  /** Set when this hop answered "destination unreachable" (host, net, prohibited, port...). */
  unreachable?: string;
}

export interface TraceResult {
  reached: boolean;
  hops: TraceHop[];
  /** Short hash of the path (first address per hop, `*` for silence): changes when the route does. */
  routeHash: string;
  /** TTL of the last hop that answered at all (0 if none). */
  lastRespondingHop: number;
  /** Probes that could not be sent (no raw socket...), if any: the trace then says nothing. */
  failure?: CheckFailure;
  /** The caller's signal ended the trace early (deadline or cancellation): the path is partial. */
  cancelled?: boolean;
}

/**
 * Least wait for a probe before a later hop's answer may give it up: routers make ICMP errors on
 * their slow path, and one whose Time Exceeded leaves 30 ms late (the lab's slow router) must still
 * be listed. traceroute's 10 x the next hop's RTT alone gives it up after about 11 ms on a LAN path
 * (`traceroute -I -n` prints `*` for that router in the lab).
 */
export const SLOW_HOP_FLOOR_MS = 35;

/**
 * Least wait for a probe of a hop whose recent traces are known (`recall`): only libuv's timer
 * lateness and a busy loop are to be covered, not a router's slow path.
 */
export const KNOWN_HOP_FLOOR_MS = 5;

/** A hop known to answer after r ms is waited for at least r x this + `LATE_MARGIN_MS`. */
const LATE_FACTOR = 2;
const LATE_MARGIN_MS = 5;

/** Added to an RTT before it is multiplied, as traceroute does: sub-ms RTTs say little about a wait. */
const RTT_PRECISION_MS = 1;

/** Trailing silent hops kept after the last answer, to show where the path goes dark. */
const SILENT_TAIL = 3;

/** A probe still waiting for its answer. */
interface PendingProbe {
  ttl: number;
  /** Monotonic stamp of its send: when asked for, then again when the engine says it went out. */
  sentNs: bigint;
  stop: AbortController;
  cancelGiveUp?: () => void;
}

/**
 * ICMP-echo traceroute with every TTL in flight at once: a trace takes about one round trip, not
 * hops × timeout. Probes of one trace share identifier and checksum (Paris-style), so per-flow load
 * balancers keep them on one path. Hops beyond the first Echo Reply are dropped. A silent probe is
 * given up, as traceroute does, a few round trips of the nearest hop at or after its own that
 * answered (counted from its own send), never sooner than `floorMs` (or what `recall` allows); with
 * no such answer it waits its whole timeout (a blackholed destination).
 */
export async function trace(icmp: IcmpPort, clock: Clock, opts: TraceOptions): Promise<TraceResult> {
  const gapMs = opts.roundGapMs ?? 0;
  const near = opts.nearFactor ?? 5;
  const here = opts.hereFactor ?? 3;
  const floorMs = opts.floorMs ?? SLOW_HOP_FLOOR_MS;
  const giveUp = new AbortController();
  const pending = new Set<PendingProbe>();
  const onAbort = (): void => {
    giveUp.abort(opts.signal?.reason);
    for (const p of pending) p.stop.abort(opts.signal?.reason);
  };
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const outcomes: Array<Array<EchoOutcome | undefined>> = Array.from({ length: opts.maxHops + 1 }, () => []);
  /** The slowest answer per hop, ms (undefined: none yet). */
  const hopRttMs: Array<number | undefined> = [];
  let destinationHop = Number.POSITIVE_INFINITY;
  const settledHops = new Set<number>();
  const progress = (): void => {
    if (!opts.onProgress) return;
    const total = Number.isFinite(destinationHop) ? destinationHop : opts.maxHops;
    opts.onProgress([...settledHops].filter((t) => t <= total).length, total);
  };
  /** Least wait for a silent probe at `ttl`, ms: from the recall when it knows the hop. */
  const leastWait = (ttl: number): number => {
    const known = opts.recall?.hops[ttl - 1];
    if (known === undefined) return floorMs;
    const least = opts.recall?.fullWait ? floorMs : KNOWN_HOP_FLOOR_MS;
    return Number.isNaN(known) ? least : Math.max(least, LATE_FACTOR * known + LATE_MARGIN_MS);
  };
  /** The wait a silent probe at `ttl` gets from the answers so far, ms; undefined: its timeout. */
  const waitFor = (ttl: number): number | undefined => {
    const sameHop = hopRttMs[ttl];
    if (sameHop !== undefined) return Math.max(leastWait(ttl), here * (sameHop + RTT_PRECISION_MS));
    for (let later = ttl + 1; later < hopRttMs.length; later++) {
      const rtt = hopRttMs[later];
      if (rtt !== undefined) return Math.max(leastWait(ttl), near * (rtt + RTT_PRECISION_MS));
    }
    return undefined;
  };
  // Re-armed on every answer at or after the probe's hop: the nearest answering hop can change.
  const armGiveUp = (probe: PendingProbe): void => {
    const waitMs = waitFor(probe.ttl);
    if (waitMs === undefined || waitMs >= opts.probeTimeoutMs) return;
    probe.cancelGiveUp?.();
    const leftMs = waitMs - Number(clock.monotonicNs() - probe.sentNs) / 1e6;
    probe.cancelGiveUp = clock.setTimer(Math.max(0, leftMs), () => probe.stop.abort());
  };

  const probe = async (ttl: number, round: number): Promise<void> => {
    const p: PendingProbe = { ttl, sentNs: clock.monotonicNs(), stop: new AbortController() };
    pending.add(p);
    armGiveUp(p);
    let outcome: EchoOutcome;
    try {
      outcome = await icmp.echo({
        address: opts.address,
        family: opts.family,
        ttl,
        timeoutMs: opts.probeTimeoutMs,
        signal: p.stop.signal,
        constantChecksum: true,
        onSent: () => {
          p.sentNs = clock.monotonicNs();
          armGiveUp(p);
        },
      });
    } finally {
      pending.delete(p);
      p.cancelGiveUp?.();
    }
    outcomes[ttl]![round] = outcome;
    // An echo reply marks the destination's hop (also from another address: the trace is then not
    // `reached`, and the hop shows who answered); an unreachable marks where the path ends.
    if (outcome.status === 'reply' || outcome.status === 'reply-other-address' || outcome.status === 'unreachable')
      destinationHop = Math.min(destinationHop, ttl);
    if ('rttNs' in outcome) {
      hopRttMs[ttl] = Math.max(hopRttMs[ttl] ?? 0, Number(outcome.rttNs) / 1e6);
      for (const other of pending) if (other.ttl <= ttl) armGiveUp(other);
    }
    if (outcomes[ttl]!.filter(Boolean).length === opts.probesPerHop) settledHops.add(ttl);
    progress();
  };

  const sent: Array<Promise<void>> = [];
  try {
    for (let round = 0; round < opts.probesPerHop && !giveUp.signal.aborted; round++) {
      if (round > 0 && gapMs > 0) await pause(clock, gapMs, giveUp.signal);
      for (let ttl = 1; ttl <= opts.maxHops && ttl <= destinationHop && !giveUp.signal.aborted; ttl++)
        sent.push(probe(ttl, round));
    }
    await Promise.all(sent);
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
  return { ...summarise(outcomes, opts, destinationHop), ...(opts.signal?.aborted ? { cancelled: true } : {}) };
}

function summarise(
  outcomes: Array<Array<EchoOutcome | undefined>>,
  opts: TraceOptions,
  destinationHop: number,
): TraceResult {
  const failed = outcomes.flat().find((o): o is Extract<EchoOutcome, { status: 'failed' }> => o?.status === 'failed');
  const lastTtl = Math.min(opts.maxHops, destinationHop);
  const hops: TraceHop[] = [];
  for (let ttl = 1; ttl <= lastTtl; ttl++) {
    const answers = outcomes[ttl]!.filter(
      (o): o is Extract<EchoOutcome, { rttNs: bigint }> => o !== undefined && 'rttNs' in o,
    );
    const unreachable = answers.find((o): o is Extract<EchoOutcome, { code: number }> => o.status === 'unreachable');
    const hop: TraceHop = {
      ttl,
      addresses: [...new Set(answers.map((o) => o.from))],
      rttMs: answers.map((o) => Number(o.rttNs) / 1e6),
      loss: 1 - answers.length / opts.probesPerHop,
      ...(unreachable ? { unreachable: unreachableReason(opts.family, unreachable.code) } : {}),
    };
    hops.push(hop);
    // An unreachable answer ends the path, as traceroute's !H / !N do.
    if (unreachable) break;
  }
  const lastRespondingHop = hops.reduce((last, h) => (h.addresses.length > 0 ? h.ttl : last), 0);
  const reached = hops.some((h) => h.addresses.includes(opts.address) && !h.unreachable);
  const shown = reached || hops.at(-1)?.unreachable ? hops : hops.slice(0, lastRespondingHop + SILENT_TAIL);
  return {
    reached,
    hops: shown,
    routeHash: routeHash(shown),
    lastRespondingHop,
    ...(failed ? { failure: failed.failure } : {}),
  };
}

/**
 * Hash of the responding hops (TTL and lowest address): silent hops and the silent tail are left
 * out, so one rate-limited router does not look like a new route.
 */
export function routeHash(hops: readonly TraceHop[]): string {
  const path = hops
    .filter((h) => h.addresses.length > 0)
    .map((h) => `${h.ttl}=${[...h.addresses].sort()[0]}`)
    .join('>');
  return createHash('sha256').update(path).digest('hex').slice(0, 12);
}
