import { isIP } from 'node:net';
import { Counter, Gauge, Histogram } from 'prom-client';
import type { CheckKind, CheckResult, CheckSpec, KindMetric } from '../checks/check.js';
import { kindMetricDef, phaseMetric, PROBE_METRICS } from './catalogue.js';
import type { AnyMetric, MetricRegistries } from './registries.js';

type Labels = Record<string, string>;

interface SeriesEntry {
  metric: AnyMetric;
  labels: Labels;
  lastMs: number;
  /** Counters and histograms: kept across runs that do not touch them (see record). */
  cumulative: boolean;
}

/** Feeds one kind metric: gauges are set, counters increased, histograms observe every value. */
function recordSample(metric: AnyMetric, value: number, labels: Labels): void {
  if (!Number.isFinite(value)) return;
  if (metric instanceof Histogram) metric.observe(labels, value);
  else if (metric instanceof Counter) metric.inc(labels, value);
  else metric.set(labels, value);
}

/** How long counters of an IP no longer seen are kept: long enough for 15-minute rate windows. */
export const COUNTER_RETENTION_MS = 15 * 60_000;

interface KindMetrics {
  phases: Gauge;
  own: Array<{ def: KindMetric; metric: AnyMetric }>;
}

/**
 * Turns check results into series. Checks never touch prom-client; this is the only place that
 * knows how a result maps onto metrics. Every series a check writes is remembered, so a check
 * that leaves the config (or an IP that leaves a check's answers) takes its series with it.
 */
export class ProbeRecorder {
  private readonly success: Gauge;
  private readonly duration: Gauge;
  private readonly ipProtocol: Gauge;
  private readonly lastRun: Gauge;
  private readonly runs: Counter;
  private readonly failures: Counter;
  private readonly latency: Histogram;
  private readonly byKind = new Map<string, KindMetrics>();
  /** check name -> every series it has written (metric name + labels) and when, last. */
  private readonly series = new Map<string, Map<string, SeriesEntry>>();
  private readonly metricIds = new Map<AnyMetric, number>();

  constructor(registries: MetricRegistries, kinds: readonly CheckKind[]) {
    this.success = registries.gauge(PROBE_METRICS.success);
    this.duration = registries.gauge(PROBE_METRICS.duration);
    this.ipProtocol = registries.gauge(PROBE_METRICS.ipProtocol);
    this.lastRun = registries.gauge(PROBE_METRICS.lastRun);
    this.runs = registries.counter(PROBE_METRICS.runs);
    this.failures = registries.counter(PROBE_METRICS.failures);
    this.latency = registries.histogram(PROBE_METRICS.latency);
    for (const kind of kinds) {
      this.byKind.set(kind.kind, {
        phases: registries.create(phaseMetric(kind.kind, kind.phaseMetricName)) as Gauge,
        own: kind.metrics.map((def) => ({ def, metric: registries.create(kindMetricDef(def)) })),
      });
    }
  }

  /** Records one run of a check (all its per-IP results) and drops series the run no longer has. */
  record(spec: CheckSpec, results: readonly CheckResult[]): void {
    const nowMs = Math.max(...results.map((r) => Date.parse(r.startedAt)));
    let series = this.series.get(spec.name);
    if (!series) this.series.set(spec.name, (series = new Map()));
    const seen = new Set<string>();
    const touch = (metric: AnyMetric, labels: Labels): Labels => {
      const key = `${this.metricId(metric)}${JSON.stringify(labels)}`;
      seen.add(key);
      series.set(key, { metric, labels, lastMs: nowMs, cumulative: !(metric instanceof Gauge) });
      return labels;
    };
    const kindMetrics = this.byKind.get(spec.kind);
    for (const result of results) {
      const labels: Labels = { check: spec.name, kind: spec.kind, target: spec.target.name, ip: result.ip ?? '' };
      this.success.set(touch(this.success, labels), result.ok ? 1 : 0);
      this.duration.set(touch(this.duration, labels), result.durationMs / 1000);
      this.lastRun.set(touch(this.lastRun, labels), Date.parse(result.startedAt) / 1000);
      const family = result.ip ? isIP(result.ip) : 0;
      if (family !== 0) this.ipProtocol.set(touch(this.ipProtocol, labels), family);
      this.runs.inc(touch(this.runs, { ...labels, result: result.ok ? 'success' : 'failure' }));
      if (result.error) this.failures.inc(touch(this.failures, { ...labels, code: result.error.code }));
      this.latency.observe(touch(this.latency, labels), result.durationMs / 1000);
      if (!kindMetrics) continue;
      for (const [phase, ms] of Object.entries(result.phasesMs)) {
        kindMetrics.phases.set(touch(kindMetrics.phases, { ...labels, phase }), ms / 1000);
      }
      for (const { def, metric } of kindMetrics.own) {
        for (const one of def.samples(result)) {
          if (def.label === undefined) recordSample(metric, one.value, touch(metric, labels));
          else if (one.label !== undefined)
            recordSample(metric, one.value, touch(metric, { ...labels, [def.label]: one.label }));
        }
      }
    }
    // Gauges describe the latest run only. Counters and histograms of an IP (or of a failure
    // before any IP) outlive runs without it, so a single DNS failure or a rotating address pool
    // still shows in increase() and rate(); they go once unseen for COUNTER_RETENTION_MS.
    for (const [key, entry] of series) {
      if (seen.has(key)) continue;
      if (!entry.cumulative || nowMs - entry.lastMs > COUNTER_RETENTION_MS) {
        entry.metric.remove(entry.labels);
        series.delete(key);
      }
    }
  }

  private metricId(metric: AnyMetric): number {
    let id = this.metricIds.get(metric);
    if (id === undefined) this.metricIds.set(metric, (id = this.metricIds.size));
    return id;
  }

  /** Removes every series of a check (it left the config or changed). */
  forget(checkName: string): void {
    for (const entry of this.series.get(checkName)?.values() ?? []) entry.metric.remove(entry.labels);
    this.series.delete(checkName);
  }
}
