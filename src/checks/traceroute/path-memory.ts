import type { PathRecall, TraceResult } from './trace.js';

/**
 * Every how many traces of a target one waits in full again (the floor for every silent probe): a
 * hop that starts answering slower than the quick give-up, or a router that became slow, is found
 * within this many traces.
 */
export const FULL_WAIT_EVERY = 10;

interface Remembered {
  /** Route hash of the last complete trace. */
  routeHash: string;
  /** Since the last full-wait trace of this route. */
  hops: number[];
  /** Traces that may still use `hops` before a full wait; 0: the next trace waits in full. */
  quickLeft: number;
}

/**
 * Per-IP memory of a check's recent traces, so a warm agent gives a hop known to be silent up as
 * quickly as traceroute does and still waits for a router known to answer late (trace()'s `recall`).
 * A first trace, a changed route and every FULL_WAIT_EVERY-th trace wait in full (all but the first
 * still give known late routers their longer wait, a loaded machine's 30 ms router needing more than
 * the floor now and then). Bounded: one entry per IP the check traced in its last run, about 160
 * bytes plus 8 per hop (a packed double array): 410 bytes for 30 hops (bench/traceroute/path-memory.mjs).
 */
export class PathMemory {
  private readonly paths = new Map<string, Remembered>();

  constructor(private readonly fullEvery = FULL_WAIT_EVERY) {}

  /**
   * What the next trace of `address` may use; undefined or `fullWait`: it waits in full (the late
   * routers it knows still get their longer wait).
   */
  recall(address: string): PathRecall | undefined {
    const known = this.paths.get(address);
    return known && { hops: known.hops, fullWait: known.quickLeft === 0 };
  }

  /** Route hash of the last complete trace of `address`. */
  lastRoute(address: string): string | undefined {
    return this.paths.get(address)?.routeHash;
  }

  /**
   * Takes in a complete trace of `address` (never a partial one: a cut-short hop was not silent).
   * `quick`: the trace used this memory's recall, so its silences prove nothing (given up early).
   */
  learn(address: string, result: TraceResult, quick: boolean): void {
    const known = this.paths.get(address);
    const seen = result.hops.map((h) => (h.rttMs.length > 0 ? Math.max(...h.rttMs) : Number.NaN));
    if (!quick || !known || known.routeHash !== result.routeHash) {
      // A changed route's silences after early give-ups prove nothing: the next trace waits in full.
      const quickLeft = quick ? 0 : this.fullEvery - 1;
      this.paths.set(address, { routeHash: result.routeHash, hops: seen, quickLeft });
      return;
    }
    // The same route: the slowest answer per hop since the last full wait covers a router whose
    // answers come late only now and then; a silence keeps what the full wait found.
    seen.forEach((rtt, i) => {
      const before = known.hops[i];
      if (before === undefined) return;
      if (!Number.isNaN(rtt)) known.hops[i] = Number.isNaN(before) ? rtt : Math.max(before, rtt);
    });
    known.quickLeft--;
  }

  /** Forgets every address not in `traced` (an IP the name no longer resolves to). */
  retain(traced: ReadonlySet<string>): void {
    for (const address of this.paths.keys()) if (!traced.has(address)) this.paths.delete(address);
  }

  get size(): number {
    return this.paths.size;
  }
}
