import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { PrometheusContentType } from 'prom-client';
import type { MetricDef } from './catalogue.js';
import { openMetricsFromText } from './openmetrics.js';
import { ChunkPool, ChunkWriter, Pacer } from './scrape-chunks.js';
import { SeriesStore } from './series-store.js';

export type AnyMetric = Gauge | Counter | Histogram;

const TEXT_CONTENT_TYPE: string = Registry.PROMETHEUS_CONTENT_TYPE;
const OPENMETRICS_CONTENT_TYPE: string = Registry.OPENMETRICS_CONTENT_TYPE;

/** One scrape: its content type, then its body in chunks (produced as they are read). */
export interface Scrape {
  contentType: string;
  body: AsyncIterable<Buffer>;
  /** A chunk of `body` has been written (its write callback ran): its memory may be used again. */
  release(chunk: Buffer): void;
}

/**
 * Where the agent's metrics live, in two parts, written as one exposition:
 * - `series`: what grows with the config (per check, per IP, per target), in our SeriesStore,
 *   rendered when it changes and copied out in slices that yield to the event loop;
 * - `registry`: prom-client, for the agent's own few metrics and the process metrics, rendered by
 *   prom-client at each scrape (a few hundred series: well under a millisecond's worth).
 * Never prom-client's global registry, so tests and several agents in one process stay apart.
 */
export class MetricRegistries {
  readonly registry = new Registry<PrometheusContentType>();
  readonly series = new SeriesStore();
  private readonly sliceMs: number | undefined;
  private readonly restMs: number | undefined;
  private readonly chunks = new ChunkPool();

  /** sliceMs, restMs: a scrape's pace (see Pacer; the defaults unless a test needs others). */
  constructor(opts: { processMetrics?: boolean; sliceMs?: number; restMs?: number } = {}) {
    if (opts.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    this.sliceMs = opts.sliceMs;
    this.restMs = opts.restMs;
  }

  /** Labels added to every series (the agent's identity; SeriesStore.setIdentity says where in a line). */
  setDefaultLabels(labels: Record<string, string>): void {
    this.registry.setDefaultLabels(labels);
    this.series.setIdentity(labels);
  }

  /** A prom-client metric; `collect` (gauges and counters) runs before each render, to read values kept elsewhere. */
  create(def: MetricDef, collect?: (metric: AnyMetric) => void): AnyMetric {
    const base = { name: def.name, help: def.help, labelNames: [...def.labels], registers: [this.registry] };
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

  /** Removes a prom-client metric (it is re-created with other label names). */
  unregister(name: string): void {
    this.registry.removeSingleMetric(name);
  }

  /**
   * One scrape in either format: the store's families, then prom-client's. prom-client renders
   * first, so a failing collect callback fails the scrape before any byte is sent. The body is
   * produced as it is read (a slow reader holds it back), in slices that let the event loop run.
   */
  async scrape(openMetrics: boolean): Promise<Scrape> {
    const pacer = new Pacer(this.sliceMs, this.restMs);
    const own = await this.renderOwn(pacer);
    const ownEmpty = this.registry.getMetricsAsArray().length === 0;
    const store = this.series;
    const pool = this.chunks;
    async function* body(): AsyncGenerator<Buffer> {
      const out = new ChunkWriter(pool);
      yield* store.chunks(openMetrics, pacer, out);
      if (openMetrics) out.copy(Buffer.from(openMetricsFromText(own)));
      // One prom-client registry holding both parts would separate them by a blank line.
      else if (store.empty || !ownEmpty) out.copy(Buffer.from(store.empty ? own : `\n${own}`));
      yield* out.end();
    }
    return {
      contentType: openMetrics ? OPENMETRICS_CONTENT_TYPE : TEXT_CONTENT_TYPE,
      body: body(),
      release: (chunk) => pool.release(chunk),
    };
  }

  /**
   * prom-client's part as its `metrics()` renders it (text format), one metric at a time with the
   * pacer between them. In one go, with the store's first slice after it, it began every scrape
   * with a block of 4-8 ms at 12,000 checks (the process metrics list every open handle and read
   * /proc; 1.5-2.2 ms of it with 1,000 sockets open in an idle process). The metrics are read a
   * few milliseconds apart rather than in one pass; each stays as consistent as its own collect.
   */
  private async renderOwn(pacer: Pacer): Promise<string> {
    const parts: string[] = [];
    for (const metric of this.registry.getMetricsAsArray()) {
      if (pacer.due()) await pacer.pause();
      // Removed during the pause (unregister): it is no longer part of the exposition.
      if (!this.registry.getSingleMetric(metric.name)) continue;
      parts.push(await this.registry.getSingleMetricAsString(metric.name));
    }
    return `${parts.join('\n\n')}\n`;
  }

  /** A whole scrape as one string (tests, small registries); the server streams `scrape` instead. */
  async render(openMetrics: boolean): Promise<{ body: string; contentType: string }> {
    const { contentType, body } = await this.scrape(openMetrics);
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(chunk);
    return { body: Buffer.concat(chunks).toString('utf8'), contentType };
  }
}
