import { RANKING_METRICS } from '../metrics/catalogue.js';
import type { MetricRegistries } from '../metrics/registries.js';
import type { Family } from '../metrics/series-store.js';
import type { Scored } from './score.js';

const ownerKey = (set: string): string => `ranking:${set}`;

/**
 * A set's series: one series-store owner per set, rendered at each evaluation. Every scored target
 * is ranked, so 2 series per ranked target plus the set's change counter (2n + 1 per set).
 */
export class RankingMetrics {
  private readonly score: Family;
  private readonly rank: Family;
  private readonly changes: Family;

  constructor(private readonly registries: MetricRegistries) {
    const store = registries.series;
    this.score = store.family(RANKING_METRICS.score);
    this.rank = store.family(RANKING_METRICS.rank);
    this.changes = store.family(RANKING_METRICS.leaderChanges);
  }

  /** A set after an evaluation: `order` fastest first; targets absent from it lose their series. */
  set(name: string, order: readonly string[], scored: ReadonlyMap<string, Scored>, leaderChanged: boolean): void {
    const update = this.registries.series.owner(ownerKey(name)).begin(0);
    order.forEach((target, i) => {
      const s = scored.get(target)?.scoreMs;
      if (s !== null && s !== undefined) update.set(this.score, [name, target], s / 1000);
      update.set(this.rank, [name, target], i + 1);
    });
    update.inc(this.changes, [name], leaderChanged ? 1 : 0);
    update.end();
  }

  /** The set left the config. */
  forget(name: string): void {
    this.registries.series.forget(ownerKey(name));
  }
}
