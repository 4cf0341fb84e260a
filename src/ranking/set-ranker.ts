import type { ServerSet } from './ranking-settings.js';
import type { Scored } from './score.js';

/** The order of a set after an update; `leader` changed when its first entry did. */
export interface SetOrder {
  /** Ranked targets, fastest first (rank = index + 1). */
  order: readonly string[];
  /** The previous leader, when the leader changed (null: there was none). */
  previousLeader?: string | null;
}

/**
 * One set's order from one vantage point, with hysteresis: a target moves above another only after
 * its score has been at least `margin` better (lower) than the other's at every update for `hold`.
 * The same rule holds the way back, so two targets within the margin of each other never swap.
 *
 * Targets without a score (Unknown, Offline, no figures yet) leave the order at once: clients
 * must not be sent to a server that stopped answering. Targets that gain a score join at the
 * bottom and climb by the rule, except into an empty order, which takes them by score.
 */
export class SetRanker {
  private order: string[] = [];
  /** `challenger \0 target above it` -> when the challenger started to beat it by the margin. */
  private beating = new Map<string, number>();

  constructor(private readonly set: Pick<ServerSet, 'margin' | 'holdMs'>) {}

  /** The order at wall time `t` (ms) given the targets' scores now. */
  update(t: number, scored: readonly Scored[]): SetOrder {
    const scores = new Map<string, number>();
    for (const s of scored) if (s.scoreMs !== null) scores.set(s.target, s.scoreMs);
    const previous = this.order[0] ?? null;
    const kept = this.order.filter((name) => scores.has(name));
    const entrants = [...scores.keys()]
      .filter((name) => !kept.includes(name))
      .sort((a, b) => (scores.get(a) ?? 0) - (scores.get(b) ?? 0));
    const current = [...kept, ...entrants];
    const beating = new Map<string, number>();
    current.forEach((below, i) => {
      const s = scores.get(below) ?? 0;
      for (const above of current.slice(0, i)) {
        if (s > (scores.get(above) ?? 0) * (1 - this.set.margin)) continue;
        const key = `${below}\0${above}`;
        beating.set(key, this.beating.get(key) ?? t);
      }
    });
    this.beating = beating;
    const overtook = (x: string, y: string): boolean => {
      const since = beating.get(`${x}\0${y}`);
      return since !== undefined && t - since >= this.set.holdMs;
    };
    const next: string[] = [];
    for (const name of current) {
      const at = next.findIndex((above) => overtook(name, above));
      if (at === -1) next.push(name);
      else next.splice(at, 0, name);
    }
    this.order = next;
    const leader = next[0] ?? null;
    return leader === previous ? { order: next } : { order: next, previousLeader: previous };
  }
}
