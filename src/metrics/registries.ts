import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { OpenMetricsContentType, PrometheusContentType } from 'prom-client';
import type { MetricDef } from './catalogue.js';

export type AnyMetric = Gauge | Counter | Histogram;

/**
 * Two prom-client registries holding the same metric objects: prom-client fixes the exposition
 * format per registry, and scrapers may ask for either the Prometheus text format or OpenMetrics.
 * Never the global registry, so tests and several agents in one process stay apart.
 */
export class MetricRegistries {
  readonly text = new Registry<PrometheusContentType>();
  readonly openMetrics = new Registry<OpenMetricsContentType>();

  constructor(opts: { processMetrics?: boolean } = {}) {
    this.openMetrics.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    if (opts.processMetrics ?? true) {
      collectDefaultMetrics({ register: this.text });
      collectDefaultMetrics({ register: this.openMetrics });
    }
  }

  /** Labels added to every series at render time (the agent's identity). */
  setDefaultLabels(labels: Record<string, string>): void {
    this.text.setDefaultLabels(labels);
    this.openMetrics.setDefaultLabels(labels);
  }

  /** `collect` (gauges and counters) runs before each render, to read values kept elsewhere. */
  create(def: MetricDef, collect?: (metric: AnyMetric) => void): AnyMetric {
    const registers = [this.text, this.openMetrics];
    const base = { name: def.name, help: def.help, labelNames: [...def.labels], registers };
    switch (def.type) {
      case 'gauge':
        return new Gauge({
          ...base,
          ...(collect
            ? {
                collect(this: Gauge) {
                  collect(this);
                },
              }
            : {}),
        });
      case 'counter':
        return new Counter({
          ...base,
          ...(collect
            ? {
                collect(this: Counter) {
                  collect(this);
                },
              }
            : {}),
        });
      case 'histogram':
        return new Histogram({ ...base, buckets: [...(def.buckets ?? [])] });
    }
  }

  gauge(def: MetricDef & { type: 'gauge' }, collect?: (gauge: Gauge) => void): Gauge {
    return this.create(def, collect as ((m: AnyMetric) => void) | undefined) as Gauge;
  }

  counter(def: MetricDef & { type: 'counter' }, collect?: (counter: Counter) => void): Counter {
    return this.create(def, collect as ((m: AnyMetric) => void) | undefined) as Counter;
  }

  histogram(def: MetricDef & { type: 'histogram' }): Histogram {
    return this.create(def) as Histogram;
  }

  /** Removes a metric from both registries (it is re-created with other label names). */
  unregister(name: string): void {
    this.text.removeSingleMetric(name);
    this.openMetrics.removeSingleMetric(name);
  }

  async render(openMetrics: boolean): Promise<{ body: string; contentType: string }> {
    const registry = openMetrics ? this.openMetrics : this.text;
    return { body: await registry.metrics(), contentType: registry.contentType };
  }
}
