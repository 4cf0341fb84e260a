import type { Logger } from 'pino';
import type { z } from 'zod';
import type { Clock } from '../clock.js';
import type { ConfigPath } from '../settings/config-path.js';
import type { CheckError } from '../errors.js';
import type { NetDeps } from '../net/net-deps.js';
import type { TraceHop } from './traceroute/trace.js';

/** What a check probes: one configured target. */
export interface TargetSpec {
  /** Unique name; the `target` label. */
  name: string;
  /** Host name or IP literal to resolve and probe. */
  host: string;
  /** The URL, when the target was configured by URL (kinds that speak HTTP use it). */
  url?: string;
  /** Free-form grouping (e.g. `aws`), carried into results and events. */
  group: string;
  labels: Readonly<Record<string, string>>;
}

export type ScheduleSpec = { type: 'interval'; intervalMs: number } | { type: 'cron'; expression: string };

/** One configured check: a kind applied to a target, validated and frozen. */
export interface CheckSpec<S extends object = object> {
  name: string;
  kind: string;
  target: TargetSpec;
  schedule: ScheduleSpec;
  timeoutMs: number;
  /** Whether the check's histograms (run duration, the kind's own) are written: a series per bucket per IP. */
  histograms?: boolean;
  /** The kind's own settings, as its schema produced them (defaults filled in). */
  settings: Readonly<S>;
}

/** The fields every result record has, whatever the kind. */
export interface CoreResult {
  check: string;
  kind: string;
  target: string;
  /** The address probed, for per-IP checks; absent when the run failed before choosing one. */
  ip?: string;
  /** Where the probed addresses came from when not the system resolver (a dns check of the target). */
  addressSource?: string;
  ok: boolean;
  error: CheckError | null;
  /** Wall-clock start, ISO 8601. */
  startedAt: string;
  durationMs: number;
  phasesMs: Record<string, number>;
  /** The path to a silent IP, traced because of this failure (see agent/triggered-trace.ts). */
  traceroute?: AttachedTrace;
}

/** What a triggered trace adds to a failed result. */
export type AttachedTrace =
  | { reached: boolean; hops: TraceHop[]; routeHash: string; lastRespondingHop: number }
  /** The trace could not be made (no raw socket...): said, rather than an all-silent path. */
  | { error: CheckError };

/**
 * A result record: the core fields plus the kind's own (tcp: `port`, `connectMs`), each optional
 * because a run that failed early has none of them. `CheckResult` alone is any kind's record.
 */
export type CheckResult<F extends object = object> = CoreResult & Partial<F>;

/** What a run gets from the scheduler. */
export interface RunContext {
  /** Aborted at the run's deadline (reason `RunDeadlineExceeded`) or on cancellation. */
  signal: AbortSignal;
  clock: Clock;
  log: Logger;
  /** Long checks (traceroute) report how far they are; the CLI draws a progress bar from it. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * A ready-to-run check. `run` returns one result per probed IP (or one without `ip` when the run
 * failed before that) and never throws for a target failure: failures are data.
 */
export interface Check<F extends object = object> {
  readonly spec: CheckSpec;
  run(ctx: RunContext): Promise<CheckResult<F>[]>;
}

/** One value of a kind metric from one result; `label` is the value of the metric's own label. */
export interface MetricSample {
  value: number;
  label?: string;
}

/**
 * A kind-specific metric (names in base units). Each result yields samples: a gauge is set to
 * each, a counter increased by each, a histogram observes each. A metric with a `label` (one
 * bounded label: an rcode, a hijack reason, a phase) writes only samples that carry its value.
 */
export interface KindMetric<F extends object = object> {
  name: string;
  help: string;
  type: 'gauge' | 'counter' | 'histogram';
  buckets?: readonly number[];
  label?: string;
  /** Written only when something rare happens (a duplicate reply, a hijack): outside the steady-state budget. */
  occasional?: boolean;
  samples(result: CheckResult<F>): readonly MetricSample[];
}

/** One unlabelled sample, or none when the result has no value. */
export function sample(value: number | undefined | null): MetricSample[] {
  return value === undefined || value === null ? [] : [{ value }];
}

/** What `vantage probe KIND TARGET` makes of TARGET. */
export interface ProbeTarget {
  host: string;
  url?: string;
  /** Settings implied by the target (e.g. the port in `host:port`). */
  settings: Record<string, unknown>;
}

/** A problem a kind finds in a check's settings beyond what its schema expresses. */
export interface SettingsProblem {
  /** Path relative to the check entry in the config (e.g. `['port']`). */
  path: ConfigPath;
  message: string;
}

/** Settings as a schema made them, or the schema's complaint. */
export type SettingsParse<S> = { success: true; data: S } | { success: false; error: z.ZodError };

/**
 * What a kind needs from the agent besides its ports. `raw-icmp`: the raw ICMP sockets, opened
 * at start-up so a missing CAP_NET_RAW is said at once. `addresses-first`: its runs feed the
 * target's address book, so one-shot runs (`vantage once`) run it before the target's other checks.
 */
export type KindNeed = 'raw-icmp' | 'addresses-first';

/**
 * One probe kind, typed by its settings `S` and its own result fields `F`. The registry, the
 * scheduler, metrics and reports know kinds only through this. The functions that take `S` or
 * `F` are methods, whose parameters TypeScript checks both ways, so a `CheckKind<TcpSettings,
 * TcpFields>` is a `CheckKind` (settings `object`, fields `object`) without a cast. That is sound
 * here because a kind only ever receives specs and results it made: specs come from its own
 * schema (config/check-entry.ts picks the kind by the spec's `kind`), results from its own run.
 */
export interface CheckKind<S extends object = object, F extends object = object> {
  readonly kind: string;
  /** One line for `--help` and the README. */
  readonly summary: string;
  /** Strict schema of the kind's own settings (snake_case keys, defaults filled in). */
  readonly settings: z.ZodObject;
  /** Phase names, in order; each becomes a `phase` label value of `probe_<kind>_duration_seconds`. */
  readonly phases: readonly string[];
  /** Name of the per-phase gauge when blackbox_exporter's differs (`probe_http_duration_seconds`). */
  readonly phaseMetricName?: string;
  readonly metrics: readonly KindMetric<F>[];
  readonly needs: readonly KindNeed[];
  /** The kind's settings from raw values (YAML, command line) through its schema, defaults filled in. */
  parseSettings(raw: unknown): SettingsParse<S>;
  /** Cross-field rules; `timeoutMs` is the check's run deadline. */
  checkSettings(target: TargetSpec, settings: S, timeoutMs: number): SettingsProblem[];
  /**
   * Whether a failed result means "the name resolved but this IP did not answer": such results
   * may trigger a traceroute of the IP (see agent/triggered-trace.ts).
   */
  silentIp(result: CheckResult<F>): boolean;
  parseProbeTarget(arg: string): ProbeTarget;
  create(spec: CheckSpec<S>, net: NetDeps): Check<F>;
}

/** A kind as its folder writes it: what `defineKind` does not default. */
export interface KindDefinition<Schema extends z.ZodObject, F extends object> extends Omit<
  CheckKind<z.output<Schema>, F>,
  'settings' | 'needs' | 'parseSettings' | 'checkSettings' | 'silentIp'
> {
  readonly settings: Schema;
  readonly needs?: readonly KindNeed[];
  checkSettings?(target: TargetSpec, settings: z.output<Schema>, timeoutMs: number): SettingsProblem[];
  silentIp?(result: CheckResult<F>): boolean;
}

/**
 * Declares a kind: its settings type is inferred from its schema and its fields from its
 * metrics and `create`, so each is written once; absent rules get their neutral default.
 */
export function defineKind<Schema extends z.ZodObject, F extends object>(
  definition: KindDefinition<Schema, F>,
): CheckKind<z.output<Schema>, F> {
  return {
    needs: [],
    checkSettings: () => [],
    silentIp: () => false,
    ...definition,
    parseSettings: (raw) => definition.settings.safeParse(raw),
  };
}
