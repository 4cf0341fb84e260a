import { stripBrackets } from '../../net/address.js';
import { formatDuration } from '../../config/duration.js';
import type { CheckKind, KindMetric, ProbeTarget, SettingsProblem, TargetSpec } from '../check.js';
import { TracerouteCheck } from './traceroute-check.js';
import { tracerouteSettingsSchema } from './traceroute-settings.js';
import type { TracerouteFields, TracerouteSettings } from './traceroute-settings.js';

const metrics: KindMetric<TracerouteFields>[] = [
  {
    name: 'probe_traceroute_reached',
    help: 'Whether the last trace reached the destination (1) or not (0).',
    value: (r) => (r.reached === undefined ? undefined : r.reached ? 1 : 0),
  },
  {
    name: 'probe_traceroute_hop_count',
    help: 'Hops to the destination, or to the last responding hop when it was not reached.',
    value: (r) => r.hopCount,
  },
  {
    name: 'probe_traceroute_last_responding_hop',
    help: 'TTL of the last hop that answered.',
    value: (r) => r.lastRespondingHop,
  },
  {
    name: 'probe_traceroute_last_hop_loss_ratio',
    help: 'Probe loss at the last responding hop.',
    value: (r) => r.hops?.[(r.lastRespondingHop ?? 0) - 1]?.loss,
  },
  {
    name: 'probe_traceroute_route_hash',
    help: 'The path as a number (first 32 bits of its hash): a change means a new route.',
    value: (r) => (r.routeHash ? Number.parseInt(r.routeHash.slice(0, 8), 16) : undefined),
  },
  {
    name: 'probe_traceroute_route_changes_total',
    type: 'counter',
    help: 'Traces whose route differed from the previous trace of the same IP.',
    value: (r) => (r.routeChanged ? 1 : 0),
  },
];

export const tracerouteKind: CheckKind<TracerouteSettings, TracerouteFields> = {
  kind: 'traceroute',
  summary: 'flow-stable ICMP-echo traceroute, every TTL in flight at once',
  settings: tracerouteSettingsSchema,
  phases: ['resolve', 'trace'],
  metrics,
  checkSettings(_target: TargetSpec, s: TracerouteSettings, timeoutMs: number): SettingsProblem[] {
    const probeTimeout = s.probe_timeout;
    if (probeTimeout < timeoutMs) return [];
    return [
      {
        path: ['probe_timeout'],
        message: `probe_timeout ${formatDuration(probeTimeout)} must be shorter than the run timeout ${formatDuration(timeoutMs)}, or a silent path is cut short`,
      },
    ];
  },
  parseProbeTarget(arg: string): ProbeTarget {
    return { host: stripBrackets(arg), settings: {} };
  },
  create(spec, net) {
    return new TracerouteCheck(spec, net);
  },
};
