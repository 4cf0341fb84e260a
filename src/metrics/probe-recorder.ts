import { isIP } from 'node:net';
import type { Counter, Gauge, Histogram } from 'prom-client';
import type { CheckKind, CheckResult, CheckSpec, KindMetric } from '../checks/check.js';
import { phaseMetric, PROBE_METRICS } from './catalogue.js';
import type { AnyMetric, MetricRegistries } from './registries.js';

type Labels = Record<string, string>;

interface KindGauges {
  phases: Gauge;
  own: Array<{ def: KindMetric<Record<string, unknown>>; gauge: Gauge }>;
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
  private readonly byKind = new Map<string, KindGauges>();
  /** check name -> metric -> serialized label sets written by the latest run. */
  private readonly series = new Map<string, Map<AnyMetric, Map<string, Labels>>>();

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
        phases: registries.gauge({ ...phaseMetric(kind.kind), type: 'gauge' }),
        own: kind.metrics.map((def) => ({
          def,
          gauge: registries.gauge({ name: def.name, type: 'gauge', help: def.help, labels: PROBE_METRICS.success.labels }),
        })),
      });
    }
  }

  /** Records one run of a check (all its per-IP results) and drops series the run no longer has. */
  record(spec: CheckSpec<unknown>, results: readonly CheckResult[]): void {
    const written = new Map<AnyMetric, Map<string, Labels>>();
    const touch = (metric: AnyMetric, labels: Labels): Labels => {
      let sets = written.get(metric);
      if (!sets) written.set(metric, (sets = new Map()));
      sets.set(JSON.stringify(labels), labels);
      return labels;
    };
    const kindGauges = this.byKind.get(spec.kind);
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
      if (!kindGauges) continue;
      for (const [phase, ms] of Object.entries(result.phasesMs)) {
        kindGauges.phases.set(touch(kindGauges.phases, { ...labels, phase }), ms / 1000);
      }
      for (const { def, gauge } of kindGauges.own) {
        const value = def.value(result);
        if (value !== undefined && Number.isFinite(value)) gauge.set(touch(gauge, labels), value);
      }
    }
    this.keepCountersOfFailedRuns(spec.name, written);
    this.replaceSeries(spec.name, written);
  }

  /** Removes every series of a check (it left the config or changed kind/target). */
  forget(checkName: string): void {
    this.replaceSeries(checkName, new Map());
  }

  /** Counters of an IP that still answers must survive a run in which it had no failure. */
  private keepCountersOfFailedRuns(checkName: string, written: Map<AnyMetric, Map<string, Labels>>): void {
    const previous = this.series.get(checkName);
    const ips = new Set([...(written.get(this.success)?.values() ?? [])].map((l) => l.ip));
    for (const counter of [this.runs, this.failures]) {
      for (const [key, labels] of previous?.get(counter) ?? []) {
        if (!ips.has(labels.ip ?? '')) continue;
        let sets = written.get(counter);
        if (!sets) written.set(counter, (sets = new Map()));
        sets.set(key, labels);
      }
    }
  }

  private replaceSeries(checkName: string, next: Map<AnyMetric, Map<string, Labels>>): void {
    for (const [metric, sets] of this.series.get(checkName) ?? []) {
      const keep = next.get(metric);
      for (const [key, labels] of sets) {
        if (!keep?.has(key)) metric.remove(labels);
      }
    }
    if (next.size === 0) this.series.delete(checkName);
    else this.series.set(checkName, next);
  }
}
