import { isIP } from 'node:net';
import * as z from 'zod';
import { qualitySchema } from '../quality/quality-settings.js';
import { historySchema } from '../history/history-settings.js';
import { serverSetsSchema } from '../ranking/ranking-settings.js';
import { ICMP_SOCKET_MODES } from '../net/icmp/echo.js';
import { durationSchema } from '../settings/setting-schemas.js';
import { webServerSchema } from '../settings/web-config-keys.js';
import { triggeredTracerouteSchema } from './triggered-traceroute-schema.js';

/** Names of things that become label values: readable, no spaces, no quoting needed anywhere. */
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
/** Up to 253 characters of dot-separated labels of letters, digits, `-` and `_` (not at a label's ends). */
const HOST_LABEL = '[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?';
const HOST_NAME_PATTERN = new RegExp(`^(?=.{1,253}\\.?$)${HOST_LABEL}(?:\\.${HOST_LABEL})*\\.?$`);
/** Prometheus label names, minus the reserved `__` prefix. */
export const LABEL_NAME_PATTERN = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

const nameSchema = z
  .string()
  .regex(NAME_PATTERN, 'use letters, digits, "_", "." and "-" only (it becomes a label value)');
/** Label values are strings; numbers and booleans in YAML (`tier: 1`) are taken as their text. */
const labelsSchema = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).default({});

/** A host name (letters, digits, `-`, `_`, dots) or an IP literal; never a port or a URL. */
const hostSchema = z
  .string()
  .refine(
    (h) => isIP(h) !== 0 || HOST_NAME_PATTERN.test(h),
    "host must be a host name or an IP address (a port goes in the check's port:, a URL in url:)",
  );

export const agentSchema = z.strictObject({
  /** Agent id, the `agent` label. Empty or absent: the host name (the pod name in Kubernetes). */
  id: z.union([z.literal(''), nameSchema]).optional(),
  /** Region the agent runs in (e.g. `eu-west-1`), the `region` label. */
  region: z.string().default(''),
  /** Carrier or network operator whose path is measured, the `carrier` label. */
  carrier: z.string().default(''),
  /** Access network type (`fiber`, `mobile-4g`, `datacenter`...), the `network_type` label. */
  network_type: z.string().default(''),
  /** Extra labels put on every series (e.g. `{ az: eu-west-1a }`). */
  labels: labelsSchema,
});

export const defaultsSchema = z.strictObject({
  /** How often each check runs unless it says otherwise. Default `30s`. */
  interval: durationSchema.optional(),
  /** How long a run may take unless the check says otherwise. Default `5s`. */
  timeout: durationSchema.optional(),
});

/** Keys every check entry may have, whatever its kind; the rest are the kind's settings. */
export const checkCommonShape = {
  kind: z.string(),
  /** Unique check name, the `check` label. Default `<target>-<kind>`. */
  name: nameSchema.optional(),
  /** Fixed interval between runs (`30s`). Exclusive with `cron`. */
  interval: durationSchema.optional(),
  /** Cron expression with an optional seconds field (`*\/10 * * * * *`). Exclusive with `interval`. */
  cron: z.string().optional(),
  /** Deadline of one run; must be shorter than the interval. */
  timeout: durationSchema.optional(),
  /**
   * Write this check's histograms (run duration, icmp RTT, https phases): a series per bucket per
   * IP, so off by default. Default false.
   */
  histograms: z.boolean().optional(),
};

export const targetSchema = z.strictObject({
  /** Unique target name, the `target` label. */
  name: nameSchema,
  /** Host name or IP address to probe. Exactly one of `host` and `url`. */
  host: hostSchema.optional(),
  /** URL to probe (kinds that need a host use its host name). Exactly one of `host` and `url`. */
  url: z.url({ protocol: /^https?$/, error: 'url must be an absolute http:// or https:// URL' }).optional(),
  /** Free-form group, e.g. the cloud (`aws`) or the service. */
  group: z.string().default(''),
  /** Labels for this target (on `vantage_target_info`, in events and reports). */
  labels: labelsSchema,
  /** The checks to run against this target (each validated on its own, see check-entry.ts). */
  checks: z.array(z.unknown()).min(1),
});

/** Where problem events go besides the log (stdout): a rotated JSONL file, an HTTP collector. */
export const eventSinkSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('file'),
    /** File to append JSON lines to. */
    path: z.string().min(1),
    /** Rotate when the file would grow past this many bytes. Default 10 MiB. */
    max_bytes: z.number().int().min(1_024).default(10_485_760),
    /** Files kept, the current one included. Default 5. */
    max_files: z.number().int().min(1).max(100).default(5),
  }),
  z.strictObject({
    type: z.literal('http'),
    /** Collector URL; events are POSTed as JSON arrays. */
    url: z.url({ protocol: /^https?$/ }),
    /** Request headers (e.g. an authorization token; redacted in logs). */
    headers: z.record(z.string(), z.string()).default({}),
    /** Events per request. Default 100. */
    batch_size: z.number().int().min(1).max(10_000).default(100),
    /** Longest wait before a partial batch is sent. Default 5s. */
    flush_interval: durationSchema.optional(),
    /** Events held while the collector is down; more are dropped and counted. Default 10000. */
    max_queue: z.number().int().min(1).max(1_000_000).default(10_000),
  }),
]);

/** Scheduled lookups of the agent's public egress IP. */
export const egressSchema = z.strictObject({
  /**
   * Echo services answering with the caller's address, asked in this order (e.g.
   * https://checkip.amazonaws.com). Empty: no lookups.
   */
  urls: z.array(z.url({ protocol: /^https?$/ })).default([]),
  /** Time between lookups. Default 5m. */
  interval: durationSchema.default(300_000),
  /** Deadline of one lookup. Default 10s. */
  timeout: durationSchema.default(10_000),
});

/**
 * Memory-reducing GCs the agent asks V8 for (src/agent/heap-trim.ts): one (blocking) when the first
 * config has been applied, then an incremental one every `interval`.
 */
export const heapTrimSchema = z.strictObject({
  /** Ask at all. Default true. */
  enabled: z.boolean().default(true),
  /** Time between them, at least 1s (each is a full collection). Default 5m. */
  interval: durationSchema
    .refine((ms) => ms >= 1_000, 'heap_trim.interval must be at least 1s: each trim is a full collection')
    .default(300_000),
});

/** `GET /diagnose?target=NAME` on the metrics listener. */
export const diagnoseEndpointSchema = z.strictObject({
  /** Serve it at all. Default false: a report sends real traffic, so it is opt-in. */
  enabled: z.boolean().default(false),
  /** Reports start at most this often (one at a time; others get 429). Default 30s. */
  min_interval: durationSchema.default(30_000),
  /** Resolvers asked besides the system resolver. */
  resolvers: z.array(z.string().min(1)).default([]),
  /** Echo requests per IP. Default 3. */
  count: z.number().int().min(1).max(20).default(3),
});

/** The top level; `agent`, `defaults` and each target are parsed on their own so one mistake hides none. */
export const configSchema = z.strictObject({
  agent: z.unknown().optional(),
  /** Where `/metrics`, `/healthz` and `/readyz` are served. Default `0.0.0.0:9477`. */
  listen: z.string().optional(),
  defaults: z.unknown().optional(),
  /**
   * Series the agent may expose for its checks before it warns (log line, `vantage_series`): each
   * is paid again in the central store for every agent. Default 200000.
   */
  series_budget: z.number().int().min(1).default(200_000),
  /** Cap on runs in flight at once across all checks. Default 64. */
  max_concurrent_runs: z.number().int().min(1).max(10_000).default(64),
  /**
   * ICMP sockets for icmp and traceroute checks: `raw` (CAP_NET_RAW), `datagram` (Linux ping sockets,
   * net.ipv4.ping_group_range, no capability) or `auto` (raw when permitted, else datagram). Default auto.
   */
  icmp_socket: z.enum(ICMP_SOCKET_MODES).default('auto'),
  /**
   * The nice of the thread that schedules and times the runs (and of the HTTPS worker it starts), set
   * at start-up: below the agent's own it needs CAP_SYS_NICE, and without it the agent says so and
   * keeps its nice. Default -10.
   */
  probe_thread_nice: z.number().int().min(-20).max(19).default(-10),
  heap_trim: heapTrimSchema.prefault({}),
  /** Problem-event sinks besides stdout. */
  events: z.strictObject({ sinks: z.array(eventSinkSchema).default([]) }).prefault({}),
  egress: egressSchema.prefault({}),
  diagnose_endpoint: diagnoseEndpointSchema.prefault({}),
  /** The HTTP listener: web config file (TLS, basic auth), connection cap, timeouts. */
  web: webServerSchema.prefault({}),
  triggered_traceroute: triggeredTracerouteSchema.prefault({}),
  /** The network-quality model: one class per target and for the agent (see src/quality/). */
  quality: qualitySchema.default({}),
  /** What the status pages keep of past results (see src/history/). */
  history: historySchema.prefault({}),
  /** Targets serving the same thing, ranked fastest first from this agent (see src/ranking/). */
  server_sets: serverSetsSchema.default({}),
  targets: z.array(z.unknown()).min(1, 'at least one target is needed'),
});

export type RawConfig = z.output<typeof configSchema>;
export type RawTriggeredTraceroute = z.output<typeof triggeredTracerouteSchema>;
export type EventSinkConfig = z.infer<typeof eventSinkSchema>;
export type RawAgent = z.infer<typeof agentSchema>;
export type RawTarget = z.infer<typeof targetSchema>;
