import type { Logger } from 'pino';
import type { z } from 'zod';
import type { Clock } from '../clock.js';
import type { ConfigPath } from '../config/yaml-source.js';
import type { CheckError } from '../errors.js';
import type { NetDeps } from '../net/net-deps.js';

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
export interface CheckSpec<S = unknown> {
  name: string;
  kind: string;
  target: TargetSpec;
  schedule: ScheduleSpec;
  timeoutMs: number;
  /** The kind's own settings, as its schema produced them (defaults filled in). */
  settings: S;
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
}

/** A result record: the core fields plus the kind's own (tcp: `port`, `connectMs`). */
export type CheckResult<F extends object = Record<string, unknown>> = CoreResult & Partial<F>;

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
export interface Check<F extends object = Record<string, unknown>> {
  readonly spec: CheckSpec<unknown>;
  run(ctx: RunContext): Promise<CheckResult<F>[]>;
}

/**
 * A kind-specific metric, fed from each result (names in base units). A gauge is set to the
 * value, a counter increased by it, a histogram observes each value of an array.
 */
export interface KindMetric<F extends object> {
  name: string;
  help: string;
  type?: 'gauge' | 'counter' | 'histogram';
  buckets?: readonly number[];
  /** One extra label with a bounded set of values (an rcode, a hijack reason); no series without a value. */
  label?: { name: string; value(result: CheckResult<F>): string | undefined };
  value(result: CheckResult<F>): number | readonly number[] | undefined;
  /** Several series of the labelled metric from one result (a value per phase); replaces label.value/value. */
  series?(result: CheckResult<F>): Array<{ label: string; value: number }>;
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

/**
 * One probe kind. The registry, scheduler, metrics and report know kinds only through this.
 * Methods (not function properties) so a registry can hold kinds with different setting types.
 */
export interface CheckKind<S extends object = Record<string, unknown>, F extends object = Record<string, unknown>> {
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
  /** Cross-field rules; `timeoutMs` is the check's run deadline. */
  checkSettings(target: TargetSpec, settings: S, timeoutMs: number): SettingsProblem[];
  /**
   * Whether a failed result means "the name resolved but this IP did not answer": such results
   * may trigger a traceroute of the IP (see triggered-trace.ts). Absent: never.
   */
  silentIp?(result: CheckResult<F>): boolean;
  parseProbeTarget(arg: string): ProbeTarget;
  create(spec: CheckSpec<S>, net: NetDeps): Check<F>;
}
