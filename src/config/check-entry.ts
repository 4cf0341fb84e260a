import * as z from 'zod';
import type { CheckKind, CheckSpec, ScheduleSpec, TargetSpec } from '../checks/check.js';
import type { CheckRegistry } from '../checks/registry.js';
import { DEFAULT_INTERVAL_MS, DEFAULT_TIMEOUT_MS } from './agent-config.js';
import { cronMinGapMs } from './cron-gap.js';
import { formatDuration } from '../settings/duration.js';
import type { Reporter } from './reporter.js';
import type { defaultsSchema } from './schema.js';
import { checkCommonShape } from './schema.js';
import type { ConfigPath } from '../settings/config-path.js';
import { formatPath } from './zod-diagnostics.js';

export type Defaults = z.output<typeof defaultsSchema>;

/** The entry's `kind:`, read first so the kind's schema can be picked. */
const headSchema = z.looseObject({ kind: z.string() });
/** The common keys on their own (the kind's keys pass through). */
const commonSchema = z.looseObject(checkCommonShape);
/**
 * Each kind's full entry schema (common keys plus its settings), built once per kind: zod compiles
 * an object schema on its first parse, and rebuilding it per entry made that compile most of the
 * cost of a large config (5,000 checks: 1.2-2 s, see bench/config-reload.mjs).
 */
const fullSchemas = new WeakMap<CheckKind, z.ZodObject>();

function fullSchema(kind: CheckKind): z.ZodObject {
  let schema = fullSchemas.get(kind);
  if (!schema) {
    schema = z.strictObject({ ...checkCommonShape, ...kind.settings.shape });
    fullSchemas.set(kind, schema);
  }
  return schema;
}

/**
 * Turns one `checks[]` entry into a spec: common keys, the kind's own settings (its schema is
 * merged in, so unknown keys are caught with positions), schedule and timeout rules. Common keys
 * are parsed on their own too, so a wrong kind setting does not hide a schedule mistake.
 */
export class CheckEntries {
  private readonly names = new Map<string, ConfigPath>();
  private defaultsBlamed = false;

  constructor(
    private readonly registry: CheckRegistry,
    private readonly report: Reporter,
    private readonly defaults: Defaults,
  ) {
    const { interval, timeout } = defaults;
    if (interval !== undefined && timeout !== undefined && timeout >= interval) {
      report.add(
        ['defaults', 'timeout'],
        `defaults.timeout (${formatDuration(timeout)}) must be shorter than defaults.interval ` +
          `(${formatDuration(interval)})`,
      );
      this.defaultsBlamed = true;
    }
  }

  build(raw: unknown, target: TargetSpec | undefined, path: ConfigPath): CheckSpec | undefined {
    const head = headSchema.safeParse(raw, { reportInput: true });
    if (!head.success) {
      this.report.issues(path, head.error.issues);
      return undefined;
    }
    const kind = this.registry.get(head.data.kind);
    if (!kind) {
      this.report.add(
        [...path, 'kind'],
        `${formatPath([...path, 'kind'])}: unknown check kind "${head.data.kind}" (known: ` +
          `${this.registry.names().join(', ')})`,
      );
      return undefined;
    }
    const common = commonSchema.safeParse(raw);
    const full = fullSchema(kind).safeParse(raw, { reportInput: true });
    if (!full.success) this.report.issues(path, full.error.issues);
    if (!common.success) return undefined;
    const { name: givenName, interval, cron, timeout, histograms } = common.data;
    const name = givenName ?? `${target?.name ?? formatPath(path)}-${kind.kind}`;
    const seen = this.names.get(name);
    if (seen) {
      this.report.add(
        [...path, givenName ? 'name' : 'kind'],
        `${formatPath(path)}: duplicate check name "${name}" (first at ${formatPath(seen)}); give each check a ` +
          `distinct name:`,
      );
    } else {
      this.names.set(name, path);
    }
    const schedule = this.schedule(path, interval, cron);
    const timeoutMs = timeout ?? this.defaults.timeout ?? DEFAULT_TIMEOUT_MS;
    if (schedule)
      this.checkTimeout(path, timeoutMs, schedule, {
        timeout: timeout !== undefined,
        schedule: interval !== undefined || cron !== undefined,
      });
    if (!full.success || !target) return undefined;
    const settings = Object.fromEntries(Object.entries(full.data).filter(([key]) => !(key in checkCommonShape)));
    for (const problem of kind.checkSettings(target, settings, timeoutMs)) {
      this.report.add([...path, ...problem.path], `${formatPath([...path, ...problem.path])}: ${problem.message}`);
    }
    if (!schedule) return undefined;
    return { name, kind: kind.kind, target, schedule, timeoutMs, ...(histograms ? { histograms } : {}), settings };
  }

  private schedule(path: ConfigPath, interval: number | undefined, cron: string | undefined): ScheduleSpec | undefined {
    if (interval !== undefined && cron !== undefined) {
      this.report.add([...path, 'cron'], `${formatPath(path)}: give interval: or cron:, not both`);
      return undefined;
    }
    if (cron === undefined)
      return { type: 'interval', intervalMs: interval ?? this.defaults.interval ?? DEFAULT_INTERVAL_MS };
    const gap = cronMinGapMs(cron);
    if (typeof gap === 'string') {
      this.report.add(
        [...path, 'cron'],
        `${formatPath([...path, 'cron'])}: "${cron}" is not a cron expression (${gap})`,
      );
      return undefined;
    }
    return { type: 'cron', expression: cron };
  }

  /** Timeout must be shorter than the period; blame the field the user wrote, else `defaults` once. */
  private checkTimeout(
    path: ConfigPath,
    timeoutMs: number,
    schedule: ScheduleSpec,
    explicit: { timeout: boolean; schedule: boolean },
  ): void {
    const periodMs = schedule.type === 'interval' ? schedule.intervalMs : cronMinGapMs(schedule.expression);
    if (typeof periodMs !== 'number' || timeoutMs < periodMs) return;
    const what = schedule.type === 'interval' ? 'interval' : 'shortest gap between cron runs';
    const problem =
      `timeout ${formatDuration(timeoutMs)} must be shorter than the ${what} ` +
      `(${formatDuration(periodMs)}), or runs would overlap`;
    if (explicit.timeout || explicit.schedule) {
      const field = explicit.timeout ? 'timeout' : schedule.type === 'interval' ? 'interval' : 'cron';
      this.report.add([...path, field], `${formatPath([...path, field])}: ${problem}`);
    } else if (!this.defaultsBlamed) {
      this.defaultsBlamed = true;
      const field = this.defaults.timeout !== undefined ? 'timeout' : 'interval';
      this.report.add(['defaults', field], `defaults.${field}: ${problem}`);
    }
  }
}
