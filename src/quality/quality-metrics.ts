import { QUALITY_METRICS } from '../metrics/catalogue.js';
import type { MetricRegistries } from '../metrics/registries.js';
import type { Family, OwnerSeries } from '../metrics/series-store.js';
import { QUALITY_CLASSES } from './classify.js';
import type { Estimate, QualityClass } from './classify.js';

const ownerKey = (target: string): string => `quality:${target}`;
const AGENT_OWNER = 'quality-agent';

type Families = { [K in keyof typeof QUALITY_METRICS]: Family };

/**
 * The model's series: per target (a state set of 4, up to 4 figures, a change counter: 9 series)
 * and the same for the agent. They live in the series store, one owner per target rendered when
 * the target is evaluated, so a scrape of 10,000 targets only copies bytes.
 */
export class QualityMetrics {
  private readonly f: Families;

  constructor(private readonly registries: MetricRegistries) {
    const store = registries.series;
    this.f = Object.fromEntries(
      Object.entries(QUALITY_METRICS).map(([key, def]) => [key, store.family(def)]),
    ) as Families;
  }

  /** A target's class and figures after an evaluation; `changed`: its class just changed. */
  target(name: string, cls: QualityClass, e: Estimate, changed: boolean): void {
    const f = this.f;
    const update = this.registries.series.owner(ownerKey(name)).begin(0);
    for (const state of QUALITY_CLASSES) update.set(f.targetClass, [name, state], state === cls ? 1 : 0);
    figures(update, [f.targetHttpRtt, f.targetTransportRtt, f.targetSuccess, f.targetTrend], [name], e);
    update.inc(f.targetChanges, [name], changed ? 1 : 0);
    // Gauges are the latest update's (a figure that lost its value loses its series); the counter stays.
    update.end();
  }

  agent(cls: QualityClass, e: Estimate, changed: boolean): void {
    const f = this.f;
    const update = this.registries.series.owner(AGENT_OWNER).begin(0);
    for (const state of QUALITY_CLASSES) update.set(f.agentClass, [state], state === cls ? 1 : 0);
    figures(update, [f.agentHttpRtt, f.agentTransportRtt, f.agentSuccess, f.agentTrend], [], e);
    update.inc(f.agentChanges, [], changed ? 1 : 0);
    update.end();
  }

  /** The target left the config. */
  forget(name: string): void {
    this.registries.series.forget(ownerKey(name));
  }
}

/** The four figures in base units (seconds, ratio); none for a figure without a value. */
type FigureFamilies = readonly [http: Family, transport: Family, rate: Family, trend: Family];

function figures(
  update: OwnerSeries,
  [http, transport, rate, trend]: FigureFamilies,
  labels: string[],
  e: Estimate,
): void {
  if (e.httpRttMs !== null) update.set(http, labels, e.httpRttMs / 1000);
  if (e.transportRttMs !== null) update.set(transport, labels, e.transportRttMs / 1000);
  if (e.successRate !== null) {
    update.set(rate, labels, e.successRate);
    update.set(trend, labels, e.trend);
  }
}
