import { createHash } from 'node:crypto';
import { setMaxListeners } from 'node:events';
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
  /** A silent hop is given up this many round trips after a later hop answered (traceroute's "HERE" factor). */
  adaptiveFactor?: number;
  signal?: AbortSignal;
  /** Hops settled so far, out of the hops that matter (the destination's, once known, else maxHops). */
  onProgress?: (settled: number, total: number) => void;
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
 * Least wait for silent hops once the destination answered: routers make ICMP errors on their slow
 * path (often tens of ms after the destination's own reply), and 100 ms is still a tenth of a timeout.
 */
const GIVE_UP_FLOOR_MS = 100;

/** Trailing silent hops kept after the last answer, to show where the path goes dark. */
const SILENT_TAIL = 3;

/**
 * ICMP-echo traceroute with every TTL in flight at once: a trace takes about one round trip, not
 * hops × timeout. Probes of one trace share identifier and checksum
 * (Paris-style), so per-flow load balancers keep them on one path. Hops beyond the first Echo Reply
 * are dropped; once the destination answered, silent hops are given up after `adaptiveFactor`
 * round trips instead of the full timeout.
 */
export async function trace(icmp: IcmpPort, clock: Clock, opts: TraceOptions): Promise<TraceResult> {
  const gapMs = opts.roundGapMs ?? 0;
  const factor = opts.adaptiveFactor ?? 5;
  const giveUp = new AbortController();
  setMaxListeners(0, giveUp.signal); // every probe of the trace listens to it
  const onAbort = (): void => giveUp.abort(opts.signal?.reason);
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const outcomes: Array<Array<EchoOutcome | undefined>> = Array.from({ length: opts.maxHops + 1 }, () => []);
  let destinationHop = Number.POSITIVE_INFINITY;
  let slowestAnswerMs = 0;
  let allSent = false;
  let cancelGiveUp: (() => void) | undefined;
  const settledHops = new Set<number>();
  const progress = (): void => {
    if (!opts.onProgress) return;
    const total = Number.isFinite(destinationHop) ? destinationHop : opts.maxHops;
    opts.onProgress([...settledHops].filter((t) => t <= total).length, total);
  };
  // Once the destination answered and every round is out, what is still silent below it gets a
  // few of the slowest round trips seen, not the whole timeout; re-armed as slower answers come in.
  const armGiveUp = (): void => {
    if (!allSent || !Number.isFinite(destinationHop) || giveUp.signal.aborted) return;
    cancelGiveUp?.();
    cancelGiveUp = clock.setTimer(Math.max(GIVE_UP_FLOOR_MS, factor * slowestAnswerMs), () => giveUp.abort());
  };

  const probe = async (ttl: number, round: number): Promise<void> => {
    const outcome = await icmp.echo({
      address: opts.address,
      family: opts.family,
      ttl,
      timeoutMs: opts.probeTimeoutMs,
      signal: giveUp.signal,
      constantChecksum: true,
    });
    outcomes[ttl]![round] = outcome;
    // An echo reply marks the destination's hop (also from another address: the trace is then not
    // `reached`, and the hop shows who answered); an unreachable marks where the path ends.
    if (outcome.status === 'reply' || outcome.status === 'reply-other-address' || outcome.status === 'unreachable')
      destinationHop = Math.min(destinationHop, ttl);
    if ('rttNs' in outcome) {
      slowestAnswerMs = Math.max(slowestAnswerMs, Number(outcome.rttNs) / 1e6);
      armGiveUp();
    }
    if (outcomes[ttl]!.filter(Boolean).length === opts.probesPerHop) settledHops.add(ttl);
    progress();
  };

  const pending: Array<Promise<void>> = [];
  try {
    for (let round = 0; round < opts.probesPerHop && !giveUp.signal.aborted; round++) {
      if (round > 0 && gapMs > 0) await pause(clock, gapMs, giveUp.signal);
      for (let ttl = 1; ttl <= opts.maxHops && ttl <= destinationHop && !giveUp.signal.aborted; ttl++)
        pending.push(probe(ttl, round));
    }
    allSent = true;
    armGiveUp();
    await Promise.all(pending);
  } finally {
    cancelGiveUp?.();
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
