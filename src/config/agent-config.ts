import { hostname } from 'node:os';
import type { CheckSpec } from '../checks/check.js';
import type { IcmpSocketMode } from '../net/icmp/echo.js';
import type { QualitySettings } from '../quality/quality-settings.js';
import type { HistorySettings } from '../history/history-settings.js';
import type { ServerSet } from '../ranking/ranking-settings.js';
import type { WebServerConfig } from '../settings/web-config-keys.js';
import { triggeredTracerouteSchema } from './triggered-traceroute-schema.js';
import type { EventSinkConfig, RawTriggeredTraceroute } from './schema.js';

/** Who this agent is; every series and event carries it. */
export interface AgentIdentity {
  id: string;
  region: string;
  carrier: string;
  networkType: string;
  /** Extra labels from `agent.labels`. */
  labels: Readonly<Record<string, string>>;
}

/** The identity of a one-off command run without a config: the host name, nothing else. */
export function hostIdentity(): AgentIdentity {
  return { id: hostname(), region: '', carrier: '', networkType: '', labels: {} };
}

export interface ListenAddress {
  host: string;
  port: number;
}

/** Tracing an IP that resolved but stayed silent (see triggered-trace.ts). */
export interface TriggeredTracerouteConfig {
  enabled: boolean;
  maxIps: number;
  maxHops: number;
  probesPerHop: number;
  probeTimeoutMs: number;
  minIntervalMs: number;
}

/** The `triggered_traceroute` section as the agent uses it. */
export function triggeredTraceroute(raw: RawTriggeredTraceroute): TriggeredTracerouteConfig {
  return {
    enabled: raw.enabled,
    maxIps: raw.max_ips,
    maxHops: raw.max_hops,
    probesPerHop: raw.probes_per_hop,
    probeTimeoutMs: raw.probe_timeout,
    minIntervalMs: raw.min_interval,
  };
}

/** The schema's defaults, for commands that run without a config (probe, diagnose). */
export const DEFAULT_TRIGGERED_TRACEROUTE = triggeredTraceroute(triggeredTracerouteSchema.parse({}));

export interface EgressConfig {
  urls: readonly string[];
  intervalMs: number;
  timeoutMs: number;
}

export interface DiagnoseEndpointConfig {
  enabled: boolean;
  minIntervalMs: number;
  resolvers: readonly string[];
  count: number;
}

/** `heap_trim`, validated (see src/agent/heap-trim.ts). */
export interface HeapTrimConfig {
  enabled: boolean;
  intervalMs: number;
}

/** A validated, frozen config. */
export interface AgentConfig {
  file: string;
  agent: AgentIdentity;
  listen: ListenAddress;
  maxConcurrentRuns: number;
  /** `icmp_socket`: which ICMP sockets the engine opens (read at start-up). */
  icmpSocket: IcmpSocketMode;
  /** `probe_thread_nice`: the scheduling thread's nice (read at start-up). */
  probeThreadNice: number;
  /** `heap_trim`: when the agent asks V8 to give its pooled pages back. */
  heapTrim: HeapTrimConfig;
  /** Series the agent may expose before it warns (`series_budget`). */
  seriesBudget: number;
  triggeredTraceroute: TriggeredTracerouteConfig;
  /** Problem-event sinks besides stdout, as configured (snake_case, see schema.ts). */
  eventSinks: readonly EventSinkConfig[];
  egress: EgressConfig;
  diagnoseEndpoint: DiagnoseEndpointConfig;
  /** The HTTP listener's `web:` section. */
  web: WebServerConfig;
  quality: QualitySettings;
  history: HistorySettings;
  /** `server_sets:`, in config order. */
  serverSets: readonly ServerSet[];
  checks: readonly CheckSpec[];
}

export const DEFAULT_LISTEN: ListenAddress = { host: '0.0.0.0', port: 9477 };
export const DEFAULT_INTERVAL_MS = 30_000;
export const DEFAULT_TIMEOUT_MS = 5_000;

/**
 * Label names user labels may not take: Vantage's own, those of prom-client's process metrics
 * (an agent label of the same name would be silently dropped there), and Prometheus' scrape labels.
 */
export const RESERVED_LABELS = new Set([
  'agent',
  'region',
  'carrier',
  'network_type',
  'check',
  'kind',
  'target',
  'ip',
  'phase',
  'code',
  'result',
  'reason',
  'group',
  'le',
  'quantile',
  'version',
  'node_version',
  'instance',
  'job',
  'space',
  'type',
  'major',
  'minor',
  'patch',
]);

/** Parses `host:port`, `[v6]:port` or `:port` (all interfaces). */
export function parseListen(text: string): ListenAddress | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text.trim());
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  return { host: m[1] ?? (m[2] || DEFAULT_LISTEN.host), port };
}

export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
