import type { CheckKind, CheckResult, CheckSpec, KindMetric } from '../checks/check.js';
import { kindMetricDef, phaseMetric, PROBE_METRICS } from './catalogue.js';
import type { MetricRegistries } from './registries.js';
import type { Family, KeepSeries, SeriesStore } from './series-store.js';

/** How long counters of an IP no longer seen are kept: long enough for 15-minute rate windows. */
export const COUNTER_RETENTION_MS = 15 * 60_000;

interface KindFamilies {
  phases: Family;
  own: Array<{ def: KindMetric; family: Family }>;
}

/** The series store owner of a check's series. */
const ownerKey = (check: string): string => `probe:${check}`;

/**
 * Turns check results into series. Checks never touch metrics; this is the only place that knows
 * how a result maps onto them. A check's series live in the series store under the check's name,
 * rendered once per run, so a check that leaves the config (or an IP that leaves a check's answers)
 * takes its series with it, and a scrape only copies bytes.
 */
export class ProbeRecorder {
  private readonly store: SeriesStore;
  private readonly probe: { [K in keyof typeof PROBE_METRICS]: Family };
  private readonly byKind = new Map<string, KindFamilies>();
  /** A series' labels: check, kind, target, ip; and those with one more (outcome, code, phase, the kind's own). */
  private readonly labels = ['', '', '', ''];
  private readonly moreLabels = ['', '', '', '', ''];

  constructor(registries: MetricRegistries, kinds: readonly CheckKind[]) {
    const store = (this.store = registries.series);
    this.probe = {
      success: store.family(PROBE_METRICS.success),
      duration: store.family(PROBE_METRICS.duration),
      lastRun: store.family(PROBE_METRICS.lastRun),
      runs: store.family(PROBE_METRICS.runs),
      failures: store.family(PROBE_METRICS.failures),
      latency: store.family(PROBE_METRICS.latency),
    };
    for (const kind of kinds) {
      this.byKind.set(kind.kind, {
        phases: store.family(phaseMetric(kind.kind, kind.phaseMetricName)),
        own: kind.metrics.map((def) => ({ def, family: store.family(kindMetricDef(def)) })),
      });
    }
  }

  /** Records one run of a check (all its per-IP results) and drops series the run no longer has. */
  record(spec: CheckSpec, results: readonly CheckResult[]): void {
    const nowMs = Math.max(...results.map((r) => Date.parse(r.startedAt)));
    const p = this.probe;
    const kindFamilies = this.byKind.get(spec.kind);
    const run = this.store.owner(ownerKey(spec.name)).begin(nowMs);
    // The store reads label values and keeps neither array: two per recorder, filled per series.
    const labels = this.labels;
    const more = this.moreLabels;
    for (const result of results) {
      labels[0] = more[0] = spec.name;
      labels[1] = more[1] = spec.kind;
      labels[2] = more[2] = spec.target.name;
      labels[3] = more[3] = result.ip ?? '';
      run.set(p.success, labels, result.ok ? 1 : 0);
      run.set(p.duration, labels, result.durationMs / 1000);
      run.set(p.lastRun, labels, Date.parse(result.startedAt) / 1000);
      run.inc(p.runs, this.withLabel(result.ok ? 'success' : 'failure'));
      if (result.error) run.inc(p.failures, this.withLabel(result.error.code));
      if (spec.histograms) run.observe(p.latency, labels, result.durationMs / 1000);
      if (!kindFamilies) continue;
      for (const phase of Object.keys(result.phasesMs))
        run.set(kindFamilies.phases, this.withLabel(phase), (result.phasesMs[phase] ?? Number.NaN) / 1000);
      for (const { def, family } of kindFamilies.own) {
        // Histograms cost a series per bucket per IP: written only for checks that ask for them.
        if (def.type === 'histogram' && !spec.histograms) continue;
        for (const one of def.samples(result)) {
          if (!Number.isFinite(one.value)) continue;
          if (def.label === undefined) run.sample(family, labels, one.value);
          else if (one.label !== undefined) run.sample(family, this.withLabel(one.label), one.value);
        }
      }
    }
    // Gauges describe the latest run only (the store's rule). Counters and histograms of an IP (or of
    // a failure before any IP) outlive runs without it, so a single DNS failure or a rotating address
    // pool still shows in increase() and rate(); they go once unseen for COUNTER_RETENTION_MS.
    const keep: KeepSeries = (_type, seen, lastMs) => seen || nowMs - lastMs <= COUNTER_RETENTION_MS;
    run.end(keep);
  }

  /** The labels of the series being written with one more value (outcome, code, phase, the kind's own). */
  private withLabel(value: string): string[] {
    this.moreLabels[4] = value;
    return this.moreLabels;
  }

  /** Removes every series of a check (it left the config or changed). */
  forget(checkName: string): void {
    this.store.forget(ownerKey(checkName));
  }
}
