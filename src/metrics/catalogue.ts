import type { CheckKind, KindMetric } from '../checks/check.js';

type MetricType = 'gauge' | 'counter' | 'histogram';

/** One metric's name, type, help and label names: declared once, pinned by a golden test. */
export interface MetricDef {
  name: string;
  type: MetricType;
  help: string;
  labels: readonly string[];
  buckets?: readonly number[];
}

/** Labels of every probe series (the agent's identity labels are added to every series). */
const PROBE_LABELS = ['check', 'kind', 'target', 'ip'] as const;

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const LAG_BUCKETS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** Probe metrics every kind records; blackbox_exporter's names where the meaning is the same. */
export const PROBE_METRICS = {
  success: {
    name: 'probe_success',
    type: 'gauge',
    help: 'Whether the last run succeeded for this target and IP (1) or failed (0).',
    labels: PROBE_LABELS,
  },
  duration: {
    name: 'probe_duration_seconds',
    type: 'gauge',
    help: 'How long the last run took for this target and IP, in seconds.',
    labels: PROBE_LABELS,
  },
  lastRun: {
    name: 'vantage_check_last_run_timestamp_seconds',
    type: 'gauge',
    help: 'Unix time the last run of this check started; alert when it stops moving.',
    labels: PROBE_LABELS,
  },
  runs: {
    name: 'vantage_check_runs_total',
    type: 'counter',
    help: 'Runs per target and IP, by result (success or failure).',
    labels: [...PROBE_LABELS, 'result'],
  },
  failures: {
    name: 'vantage_check_failures_total',
    type: 'counter',
    help: 'Failed runs by failure code (see the README for the list of codes).',
    labels: [...PROBE_LABELS, 'code'],
  },
  latency: {
    name: 'vantage_probe_duration_seconds',
    type: 'histogram',
    help: 'Distribution of run durations, in seconds, for quantiles and trends (checks with histograms: true).',
    labels: PROBE_LABELS,
    buckets: LATENCY_BUCKETS,
  },
} as const satisfies Record<string, MetricDef>;

/** Metrics about the agent itself. */
export const AGENT_METRICS = {
  buildInfo: {
    name: 'vantage_build_info',
    type: 'gauge',
    help: 'Always 1; labels say which Vantage and Node.js are running.',
    labels: ['version', 'node_version'],
  },
  reloadSuccess: {
    name: 'vantage_config_last_reload_successful',
    type: 'gauge',
    help: 'Whether the last config (re)load succeeded (1) or was rejected, keeping the previous config (0).',
    labels: [],
  },
  reloadTimestamp: {
    name: 'vantage_config_last_reload_success_timestamp_seconds',
    type: 'gauge',
    help: 'Unix time of the last successful config load.',
    labels: [],
  },
  reloads: {
    name: 'vantage_config_reloads_total',
    type: 'counter',
    help: 'Config reload attempts by result (success or failure).',
    labels: ['result'],
  },
  webConfigReloadSuccess: {
    name: 'vantage_web_config_last_reload_successful',
    type: 'gauge',
    help:
      'Whether the last web config (TLS, basic auth) load succeeded (1) or was rejected, keeping the previous ' +
      'one (0).',
    labels: [],
  },
  webConnectionsRejected: {
    name: 'vantage_web_connections_rejected_total',
    type: 'counter',
    help: 'Connections to the HTTP listener closed on accept because web.max_connections were open.',
    labels: [],
  },
  checksConfigured: {
    name: 'vantage_checks_configured',
    type: 'gauge',
    help: 'Checks in the running config, by kind.',
    labels: ['kind'],
  },
  skipped: {
    name: 'vantage_check_runs_skipped_total',
    type: 'counter',
    help:
      'Runs that did not happen: overlap (the previous run was still going), queued (it was still waiting for a ' +
      'run slot) or missed (the agent was stalled).',
    labels: ['check', 'kind', 'reason'],
  },
  schedulerLag: {
    name: 'vantage_scheduler_lag_seconds',
    type: 'histogram',
    help: 'Actual start minus planned start of runs, in seconds (timer lateness plus waiting for a run slot).',
    labels: [],
    buckets: LAG_BUCKETS,
  },
  inFlight: {
    name: 'vantage_runs_in_flight',
    type: 'gauge',
    help: 'Runs executing now; compare with max_concurrent_runs.',
    labels: [],
  },
  probeThreadNice: {
    name: 'vantage_probe_thread_nice',
    type: 'gauge',
    help:
      'The nice of the thread that schedules and times the runs (probe_thread_nice when it could be set; see the ' +
      'logs when not).',
    labels: [],
  },
  heapTrims: {
    name: 'vantage_heap_trims_total',
    type: 'counter',
    help:
      'Memory-pressure notifications the agent sent V8 (heap_trim: a critical one after start-up, then moderate ' +
      "ones): each asks for a memory-reducing collection that gives V8's pooled pages back (V8 drops a moderate " +
      'one while a marking runs).',
    labels: [],
  },
  icmpAvailable: {
    name: 'vantage_icmp_available',
    type: 'gauge',
    help:
      'Whether an ICMP socket of a family could be opened (0: neither CAP_NET_RAW nor ping_group_range allows ' +
      'one, see the logs); socket says which kind is in use (raw, datagram; none when 0), implementation which code.',
    labels: ['family', 'implementation', 'socket'],
  },
  icmpPackets: {
    name: 'vantage_icmp_packets_total',
    type: 'counter',
    help:
      'ICMP engine traffic: sent requests, received answers, duplicate and late replies, replies from another ' +
      'address than the one pinged (other_address), and unmatched packets (unreadable or not ours).',
    labels: ['event'],
  },
  icmpSocketErrors: {
    name: 'vantage_icmp_socket_errors_total',
    type: 'counter',
    help: 'Raw ICMP socket failures; the socket is re-created on the next probe.',
    labels: [],
  },
  sinkDropped: {
    name: 'vantage_event_sink_dropped_total',
    type: 'counter',
    help:
      'Problem events a sink dropped: its bounded queue was full (the collector was down too long), the disk ' +
      'refused a write, or the agent stopped before they were delivered.',
    labels: ['sink'],
  },
  sinkQueued: {
    name: 'vantage_event_sink_queued',
    type: 'gauge',
    help: "Problem events waiting in a sink's queue.",
    labels: ['sink'],
  },
  egressInfo: {
    name: 'vantage_egress_ip_info',
    type: 'gauge',
    help:
      'The public address echo services last saw this agent come from (always 1; the address is the label). ' +
      'Absent until a lookup succeeds.',
    labels: ['address'],
  },
  egressChanges: {
    name: 'vantage_egress_ip_changes_total',
    type: 'counter',
    help: 'Times the egress IP changed between two successful lookups (carrier NAT pool, failover, VPN).',
    labels: [],
  },
  egressLookups: {
    name: 'vantage_egress_ip_lookups_total',
    type: 'counter',
    help: 'Scheduled egress-IP lookups: success (some echo service answered with an address) or failure (none did).',
    labels: ['result'],
  },
  series: {
    name: 'vantage_series',
    type: 'gauge',
    help:
      'Series this agent exposes for its checks and targets (each histogram bucket counts); compare with ' +
      'series_budget: every series is paid again in the central store for every agent.',
    labels: [],
  },
  targetInfo: {
    name: 'vantage_target_info',
    type: 'gauge',
    help: 'Always 1 per configured target; carries its group and its own labels for joins.',
    labels: ['target', 'group'],
  },
} as const satisfies Record<string, MetricDef>;

/** The network-quality model (src/quality/): per target, and for the agent's own network. */
export const QUALITY_METRICS = {
  targetClass: {
    name: 'vantage_quality_class',
    type: 'gauge',
    help: "The target's network-quality class as a state set: 1 for its state (unknown, offline, bad, good), 0 else.",
    labels: ['target', 'state'],
  },
  targetHttpRtt: {
    name: 'vantage_quality_http_rtt_seconds',
    type: 'gauge',
    help: 'Weighted median HTTP RTT (request written to first byte) over the window, in seconds.',
    labels: ['target'],
  },
  targetTransportRtt: {
    name: 'vantage_quality_transport_rtt_seconds',
    type: 'gauge',
    help: 'Weighted median transport RTT (tcp connect, icmp echo, https connect) over the window, in seconds.',
    labels: ['target'],
  },
  targetSuccess: {
    name: 'vantage_quality_success_ratio',
    type: 'gauge',
    help: 'Weighted success rate of the runs in the window (newer runs weigh more).',
    labels: ['target'],
  },
  targetTrend: {
    name: 'vantage_quality_success_trend',
    type: 'gauge',
    help:
      'Running trend of the success rate (above 0: recovering); ' +
      'a rate rising faster than quality.trend is not Bad.',
    labels: ['target'],
  },
  targetChanges: {
    name: 'vantage_quality_class_changes_total',
    type: 'counter',
    help: "Changes of the target's network-quality class.",
    labels: ['target'],
  },
  agentClass: {
    name: 'vantage_agent_quality_class',
    type: 'gauge',
    help: "The agent's own network-quality class (over all its targets) as a state set.",
    labels: ['state'],
  },
  agentHttpRtt: {
    name: 'vantage_agent_quality_http_rtt_seconds',
    type: 'gauge',
    help: "Median over the agent's targets of their HTTP RTT, in seconds.",
    labels: [],
  },
  agentTransportRtt: {
    name: 'vantage_agent_quality_transport_rtt_seconds',
    type: 'gauge',
    help: "Median over the agent's targets of their transport RTT, in seconds.",
    labels: [],
  },
  agentSuccess: {
    name: 'vantage_agent_quality_success_ratio',
    type: 'gauge',
    help: "Median over the agent's targets of their success rate.",
    labels: [],
  },
  agentTrend: {
    name: 'vantage_agent_quality_success_trend',
    type: 'gauge',
    help: "Running trend of the agent's success rate.",
    labels: [],
  },
  agentChanges: {
    name: 'vantage_agent_quality_class_changes_total',
    type: 'counter',
    help: "Changes of the agent's own network-quality class.",
    labels: [],
  },
} as const satisfies Record<string, MetricDef>;

/** The fastest-endpoint ranking (src/ranking/): per server set and target, from this agent. */
export const RANKING_METRICS = {
  score: {
    name: 'vantage_endpoint_score_seconds',
    type: 'gauge',
    help: "Target's score in the set (path time / success rate, lower is faster); absent while it cannot be ranked.",
    labels: ['set', 'target'],
  },
  rank: {
    name: 'vantage_endpoint_rank',
    type: 'gauge',
    help: "Target's place in the set, 1 = fastest, after hysteresis; absent while Unknown or Offline.",
    labels: ['set', 'target'],
  },
  leaderChanges: {
    name: 'vantage_endpoint_leader_changes_total',
    type: 'counter',
    help: 'Changes of the fastest target of the set.',
    labels: ['set'],
  },
} as const satisfies Record<string, MetricDef>;

/** `probe_<kind>_duration_seconds{phase}`, as blackbox_exporter names its per-phase durations. */
export function phaseMetric(kind: string, name = `probe_${kind}_duration_seconds`): MetricDef {
  return {
    name,
    type: 'gauge',
    help: `Duration of each phase of the last ${kind} run, in seconds.`,
    labels: [...PROBE_LABELS, 'phase'],
  };
}

export function kindMetricDef(metric: KindMetric): MetricDef {
  return {
    name: metric.name,
    type: metric.type,
    help: metric.help,
    labels: metric.label ? [...PROBE_LABELS, metric.label] : PROBE_LABELS,
    ...(metric.buckets ? { buckets: metric.buckets } : {}),
  };
}

/** Every metric Vantage defines for these kinds (process metrics from prom-client aside). */
export function catalogue(kinds: readonly CheckKind[]): MetricDef[] {
  const kindDefs = kinds.flatMap((kind) => [
    phaseMetric(kind.kind, kind.phaseMetricName),
    ...kind.metrics.map(kindMetricDef),
  ]);
  return [
    ...Object.values(PROBE_METRICS),
    ...Object.values(AGENT_METRICS),
    ...Object.values(QUALITY_METRICS),
    ...Object.values(RANKING_METRICS),
    ...kindDefs,
  ];
}

/** The catalogue as stable text (README table source, golden file). */
export function renderCatalogue(defs: readonly MetricDef[]): string {
  return [...defs]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((d) => `${d.name} ${d.type} {${d.labels.join(',')}} ${d.help}`)
    .join('\n')
    .concat('\n');
}
