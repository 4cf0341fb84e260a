import { stripBrackets } from '../../net/address.js';
import { formatDuration } from '../../settings/duration.js';
import { defineKind, sample } from '../check.js';
import type { CheckResult, KindMetric, ProbeTarget, SettingsProblem, TargetSpec } from '../check.js';
import { TracerouteCheck } from './traceroute-check.js';
import { tracerouteSettingsSchema } from './traceroute-settings.js';
import type { TracerouteFields, TracerouteSettings } from './traceroute-settings.js';

const metrics: KindMetric<TracerouteFields>[] = [
  {
    name: 'probe_traceroute_reached',
    type: 'gauge',
    help: 'Whether the last trace reached the destination (1) or not (0).',
    samples: (r) => sample(r.reached === undefined ? undefined : r.reached ? 1 : 0),
  },
  {
    name: 'probe_traceroute_hop_count',
    type: 'gauge',
    help: 'Hops to the destination, or to the last responding hop when it was not reached.',
    samples: (r) => sample(r.hopCount),
  },
  {
    name: 'probe_traceroute_last_responding_hop',
    type: 'gauge',
    help: 'TTL of the last hop that answered.',
    samples: (r) => sample(r.lastRespondingHop),
  },
  {
    name: 'probe_traceroute_last_hop_loss_ratio',
    type: 'gauge',
    help: 'Probe loss at the last responding hop.',
    samples: (r) => sample(r.hops?.[(r.lastRespondingHop ?? 0) - 1]?.loss),
  },
  {
    name: 'probe_traceroute_route_hash',
    type: 'gauge',
    help: 'The path as a number (first 32 bits of its hash): a change means a new route.',
    samples: (r) => sample(r.routeHash ? Number.parseInt(r.routeHash.slice(0, 8), 16) : undefined),
  },
  {
    name: 'probe_traceroute_route_changes_total',
    type: 'counter',
    help: 'Traces whose route differed from the previous trace of the same IP.',
    samples: (r) => sample(r.routeChanged ? 1 : 0),
  },
];

export const tracerouteKind = defineKind({
  kind: 'traceroute',
  summary: 'flow-stable ICMP-echo traceroute, every TTL in flight at once',
  settings: tracerouteSettingsSchema,
  phases: ['resolve', 'trace'],
  metrics,
  needs: ['raw-icmp'],
  checkSettings(_target: TargetSpec, s: TracerouteSettings, timeoutMs: number): SettingsProblem[] {
    const probeTimeout = s.probe_timeout;
    if (probeTimeout < timeoutMs) return [];
    return [
      {
        path: ['probe_timeout'],
        message:
          `probe_timeout ${formatDuration(probeTimeout)} must be shorter than the run timeout ` +
          `${formatDuration(timeoutMs)}, or a silent path is cut short`,
      },
    ];
  },
  parseProbeTarget(arg: string): ProbeTarget {
    return { host: stripBrackets(arg), settings: {} };
  },
  create(spec, net) {
    return new TracerouteCheck(spec, net);
  },
});

/** Whether a record is a traceroute check's (and so has its hops). */
export function isTracerouteResult(result: CheckResult): result is CheckResult<TracerouteFields> {
  return result.kind === tracerouteKind.kind;
}
