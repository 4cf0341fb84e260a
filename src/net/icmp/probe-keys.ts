import { FinishedProbes } from './finished-probes.js';
import type { FinishedProbe } from './finished-probes.js';

export type { FinishedProbe } from './finished-probes.js';

/**
 * A random identifier. It only has to differ from other pingers' on this host, not be unguessable:
 * Math.random, not node:crypto's randomInt, whose first call took 0.3-0.55 ms (it fills its
 * entropy cache) in every `vantage probe` that makes the engine. Below 0x8000, so every key
 * (identifier << 16 | sequence) is a small integer to V8: a key past 2^31 is a heap number, and
 * the first one deoptimised the engine's hot path, compiled again seconds after start-up whenever
 * a new identifier crossed the line. Half the space doubles the small chance that another raw-socket
 * pinger on the host draws the same identifier (its replies then count as unmatched or late here).
 */
function randomId(): number {
  return Math.floor(Math.random() * 0x8000);
}

/** After an answer or a timeout a key is remembered this long. */
const RECENT_NS = 30_000_000_000n;

/**
 * (identifier, sequence) keys of probes, as one number `id * 65536 + seq`. A key is not handed
 * out again while it is in flight or still remembered as recently finished: a late or duplicate
 * reply to an old probe must never be taken for a new one. When an identifier has no free
 * sequence left, another random identifier is added (more than 65,536 probes per 30 s window).
 */
export class ProbeKeys {
  private readonly ids: number[] = [randomId()];
  /** The next sequence of each identifier in `ids`. */
  private readonly nextSeqs: number[] = [0];
  /** Where in `ids` the last key came from: tried first, so a key costs one look while it lasts. */
  private current = 0;
  /** Finished probes in the order they finished (a key is never re-added while present). */
  private readonly finished = new FinishedProbes(RECENT_NS);

  constructor(private readonly inUse: (key: number) => boolean) {}

  /** The identifier the first probes get (a ping socket is bound to it when the family opens). */
  firstId(): number {
    return this.ids[0]!;
  }

  ours(id: number): boolean {
    return this.ids.includes(id);
  }

  allocate(): number {
    const count = this.ids.length;
    for (let n = 0, i = this.current; n < count; n++, i = i + 1 === count ? 0 : i + 1) {
      const seq = this.nextSeqs[i]!;
      const key = this.ids[i]! * 0x10000 + seq;
      if (this.inUse(key) || this.finished.has(key)) continue;
      this.nextSeqs[i] = (seq + 1) & 0xffff;
      this.current = i;
      return key;
    }
    let id = randomId();
    while (this.ids.includes(id)) id = randomId();
    this.current = this.ids.push(id) - 1;
    this.nextSeqs.push(1);
    return id * 0x10000;
  }

  /**
   * Remembers a finished probe for RECENT_NS and forgets those past their time, at a cost of only
   * the records it forgets (see FinishedProbes: a queue with shift() here once froze the loop at
   * 300,000 entries, and so did a Map walked from its front).
   */
  finish(key: number, probe: FinishedProbe, nowNs: bigint): void {
    this.finished.add(key, probe, nowNs);
  }

  recent(key: number): FinishedProbe | undefined {
    return this.finished.get(key);
  }

  /** Finished probes remembered now. */
  remembered(): number {
    return this.finished.size;
  }
}
