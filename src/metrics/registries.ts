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

  create(def: MetricDef): AnyMetric {
    const registers = [this.text, this.openMetrics];
    const base = { name: def.name, help: def.help, labelNames: [...def.labels], registers };
    switch (def.type) {
      case 'gauge':
        return new Gauge(base);
      case 'counter':
        return new Counter(base);
      case 'histogram':
        return new Histogram({ ...base, buckets: [...(def.buckets ?? [])] });
    }
  }

  gauge(def: MetricDef & { type: 'gauge' }): Gauge {
    return this.create(def) as Gauge;
  }

  counter(def: MetricDef & { type: 'counter' }): Counter {
    return this.create(def) as Counter;
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
