import type { CheckKind, CheckSpec } from '../checks/check.js';
import { QUALITY_CLASSES } from '../quality/classify.js';
import { AGENT_METRICS, PROBE_METRICS, QUALITY_METRICS, RANKING_METRICS } from './catalogue.js';
import type { MetricDef } from './catalogue.js';

/** Lines of one histogram series: a bucket per bound, +Inf, sum and count. */
const histogramLines = (buckets: readonly number[] | undefined): number => (buckets?.length ?? 0) + 3;

/**
 * The series one IP of a check writes in the steady state of a healthy target: what every run
 * writes (success, duration, last run, the run counter of its result), one per phase, one per
 * own metric that is not occasional, and, with `histograms`, every histogram line. A failing IP
 * adds a failure counter per code; an occasional metric (a duplicate reply, a hijack) one series.
 */
export function seriesPerIp(kind: CheckKind, histograms: boolean): number {
  const everyRun: readonly MetricDef[] = [
    PROBE_METRICS.success,
    PROBE_METRICS.duration,
    PROBE_METRICS.lastRun,
    PROBE_METRICS.runs,
  ];
  let count = everyRun.length + kind.phases.length;
  if (histograms) count += histogramLines(PROBE_METRICS.latency.buckets);
  for (const metric of kind.metrics) {
    if (metric.occasional) continue;
    if (metric.type !== 'histogram') count += 1;
    // A labelled histogram (https: per phase) has a series per phase.
    else if (histograms) count += histogramLines(metric.buckets) * (metric.label ? kind.phases.length : 1);
  }
  return count;
}

/**
 * The series the agent writes per configured target whatever its checks, at most: its info series
 * and the network-quality model's (a state set over the classes, the figures, the change counter;
 * a figure without a value, such as the HTTP RTT of a target without https, has no series).
 */
export function seriesPerTarget(): number {
  const infos: readonly MetricDef[] = [AGENT_METRICS.targetInfo];
  const quality = Object.values<MetricDef>(QUALITY_METRICS).filter((def) => def.labels.includes('target'));
  return [...infos, ...quality].reduce((n, def) => n + (def.labels.includes('state') ? QUALITY_CLASSES.length : 1), 0);
}

/** The series of a server set of `targets` targets once all are ranked: per target and per set. */
export function seriesPerServerSet(targets: number): number {
  return Object.values<MetricDef>(RANKING_METRICS).reduce(
    (n, def) => n + (def.labels.includes('target') ? targets : 1),
    0,
  );
}

/**
 * The series a config will write at one IP per check (a dns check: per resolver): its checks' by
 * kind, `perTarget` for its targets (seriesPerTarget each) and `serverSets` for its server sets.
 */
export function estimateSeries(
  specs: readonly CheckSpec[],
  kindOf: (name: string) => CheckKind | undefined,
  sets: ReadonlyArray<{ targets: readonly string[] }> = [],
): { total: number; byKind: Map<string, number>; perTarget: number; serverSets: number } {
  const byKind = new Map<string, number>();
  const perTarget = new Set(specs.map((spec) => spec.target.name)).size * seriesPerTarget();
  const serverSets = sets.reduce((n, set) => n + seriesPerServerSet(set.targets.length), 0);
  let total = perTarget + serverSets;
  for (const spec of specs) {
    const kind = kindOf(spec.kind);
    if (!kind) continue;
    const records =
      'resolver' in spec.settings && Array.isArray(spec.settings.resolver) ? spec.settings.resolver.length : 1;
    const series = seriesPerIp(kind, spec.histograms ?? false) * records;
    byKind.set(spec.kind, (byKind.get(spec.kind) ?? 0) + series);
    total += series;
  }
  return { total, byKind, perTarget, serverSets };
}
