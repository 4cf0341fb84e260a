import { FinishedProbes } from './finished-probes.js';
import type { FinishedProbe } from './finished-probes.js';

export type { FinishedProbe } from './finished-probes.js';

/**
 * A random identifier. It only has to differ from other pingers' on this host, not be unguessable:
 * Math.random, not node:crypto's randomInt, whose first call took 0.3-0.55 ms (it fills its
 * entropy cache) in every `vantage probe` that makes the engine.
 */
function randomId(): number {
  return Math.floor(Math.random() * 0x10000);
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
  private readonly idSet = new Set(this.ids);
  private readonly nextSeq = new Map<number, number>([[this.ids[0]!, 0]]);
  /** Finished probes in the order they finished (a key is never re-added while present). */
  private readonly finished = new FinishedProbes(RECENT_NS);

  constructor(private readonly inUse: (key: number) => boolean) {}

  /** The identifier the first probes get (a ping socket is bound to it when the family opens). */
  firstId(): number {
    return this.ids[0]!;
  }

  ours(id: number): boolean {
    return this.idSet.has(id);
  }

  allocate(): number {
    for (const id of this.ids) {
      const seq = this.nextSeq.get(id) ?? 0;
      const key = id * 0x10000 + seq;
      if (this.inUse(key) || this.finished.has(key)) continue;
      this.nextSeq.set(id, (seq + 1) & 0xffff);
      return key;
    }
    let id = randomId();
    while (this.idSet.has(id)) id = randomId();
    this.ids.push(id);
    this.idSet.add(id);
    this.nextSeq.set(id, 1);
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
