import { readFile } from 'node:fs/promises';
import { hostname as osHostname } from 'node:os';
import { z } from 'zod';
import type { CheckSpec, ScheduleSpec, TargetSpec } from '../checks/check.js';
import type { CheckRegistry } from '../checks/registry.js';
import {
  DEFAULT_INTERVAL_MS,
  DEFAULT_LISTEN,
  DEFAULT_TIMEOUT_MS,
  deepFreeze,
  parseListen,
  RESERVED_LABELS,
} from './agent-config.js';
import type { AgentConfig } from './agent-config.js';
import { ConfigError } from './diagnostics.js';
import type { Diagnostic } from './diagnostics.js';
import { formatDuration } from './duration.js';
import { cronMinGapMs } from './cron-gap.js';
import { checkCommonShape, configSchema, LABEL_NAME_PATTERN, targetSchema } from './schema.js';
import type { RawConfig, RawTarget } from './schema.js';
import { YamlSource } from './yaml-source.js';
import type { ConfigPath } from './yaml-source.js';
import { formatPath, issuesToDiagnostics } from './zod-diagnostics.js';

export interface LoadOptions {
  registry: CheckRegistry;
  env?: NodeJS.ProcessEnv;
  hostname?: string;
}

/** Reads and validates a config file; every problem is reported at once in a `ConfigError`. */
export async function loadConfigFile(file: string, opts: LoadOptions): Promise<AgentConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new ConfigError([{ file, line: 1, col: 1, message: `cannot read the config file (${reason})` }]);
  }
  return parseConfig(file, text, opts);
}

/** Validates config text; `file` is only used in diagnostics. */
export function parseConfig(file: string, text: string, opts: LoadOptions): AgentConfig {
  const source = new YamlSource(file, text);
  if (source.diagnostics.length > 0) throw new ConfigError(source.diagnostics);
  source.interpolate(opts.env ?? process.env);
  const builder = new ConfigBuilder(source, opts);
  const config = builder.build();
  if (builder.diagnostics.length > 0 || !config) throw new ConfigError(builder.diagnostics);
  return deepFreeze(config);
}

class ConfigBuilder {
  readonly diagnostics: Diagnostic[];
  private readonly checkNames = new Map<string, ConfigPath>();

  constructor(
    private readonly source: YamlSource,
    private readonly opts: LoadOptions,
  ) {
    this.diagnostics = [...source.diagnostics];
  }

  build(): AgentConfig | undefined {
    const data = this.source.toJS();
    const top = configSchema.safeParse(data ?? {}, { reportInput: true });
    if (!top.success) this.report([], top.error.issues);
    const rawTargets = (data as { targets?: unknown } | null)?.targets;
    const checks = Array.isArray(rawTargets) ? this.buildTargets(rawTargets, top.data) : [];
    if (!top.success) return undefined;
    const listen = this.buildListen(top.data);
    this.checkLabelNames(top.data.agent.labels, ['agent', 'labels']);
    return {
      file: this.source.file,
      agent: {
        id: top.data.agent.id || (this.opts.hostname ?? osHostname()),
        region: top.data.agent.region,
        carrier: top.data.agent.carrier,
        networkType: top.data.agent.network_type,
        labels: top.data.agent.labels,
      },
      listen,
      maxConcurrentRuns: top.data.max_concurrent_runs,
      checks,
    };
  }

  private buildListen(raw: RawConfig): AgentConfig['listen'] {
    if (raw.listen === undefined) return DEFAULT_LISTEN;
    const listen = parseListen(raw.listen);
    if (!listen) this.add(['listen'], `listen: "${raw.listen}" is not HOST:PORT (e.g. 0.0.0.0:9477 or [::]:9477)`);
    return listen ?? DEFAULT_LISTEN;
  }

  private buildTargets(rawTargets: unknown[], top: RawConfig | undefined): CheckSpec[] {
    const defaults = { interval: top?.defaults.interval, timeout: top?.defaults.timeout };
    if (defaults.interval !== undefined && defaults.timeout !== undefined && defaults.timeout >= defaults.interval) {
      this.add(['defaults', 'timeout'], `defaults.timeout (${formatDuration(defaults.timeout)}) must be shorter than defaults.interval (${formatDuration(defaults.interval)})`);
    }
    const targetNames = new Map<string, ConfigPath>();
    const checks: CheckSpec[] = [];
    rawTargets.forEach((rawTarget, i) => {
      const path = ['targets', i];
      const parsed = targetSchema.safeParse(rawTarget, { reportInput: true });
      if (!parsed.success) {
        this.report(path, parsed.error.issues);
        return;
      }
      const target = this.buildTarget(parsed.data, path);
      if (!target) return;
      const seen = targetNames.get(target.name);
      if (seen) this.add([...path, 'name'], `targets[${i}].name: duplicate target name "${target.name}" (first at ${formatPath(seen)})`);
      else targetNames.set(target.name, path);
      parsed.data.checks.forEach((rawCheck, j) => {
        const check = this.buildCheck(rawCheck, target, [...path, 'checks', j], defaults);
        if (check) checks.push(check);
      });
    });
    return checks;
  }

  private buildTarget(raw: RawTarget, path: ConfigPath): TargetSpec | undefined {
    this.checkLabelNames(raw.labels, [...path, 'labels']);
    if ((raw.host === undefined) === (raw.url === undefined)) {
      this.add([...path, 'name'], `${formatPath(path)}: give exactly one of host: and url:`);
      return undefined;
    }
    const host = raw.host ?? new URL(raw.url ?? '').hostname.replace(/^\[|\]$/g, '');
    return { name: raw.name, host, ...(raw.url ? { url: raw.url } : {}), group: raw.group, labels: raw.labels };
  }

  private buildCheck(
    raw: { kind: string } & Record<string, unknown>,
    target: TargetSpec,
    path: ConfigPath,
    defaults: { interval: number | undefined; timeout: number | undefined },
  ): CheckSpec | undefined {
    const kind = this.opts.registry.get(raw.kind);
    if (!kind) {
      this.add([...path, 'kind'], `${formatPath([...path, 'kind'])}: unknown check kind "${raw.kind}" (known: ${this.opts.registry.names().join(', ')})`);
      return undefined;
    }
    // Common keys are parsed on their own too, so schedule and name problems are reported even
    // when a kind setting is wrong: every mistake in one pass.
    const common = z.looseObject(checkCommonShape).safeParse(raw);
    const full = z.strictObject({ ...checkCommonShape, ...kind.settings.shape }).safeParse(raw, { reportInput: true });
    if (!full.success) this.report(path, full.error.issues);
    if (!common.success) return undefined;
    const { name: givenName, interval, cron, timeout } = common.data;
    const name = givenName ?? `${target.name}-${kind.kind}`;
    const seen = this.checkNames.get(name);
    if (seen) {
      this.add([...path, givenName ? 'name' : 'kind'], `${formatPath(path)}: duplicate check name "${name}" (first at ${formatPath(seen)}); give each check a distinct name:`);
    } else {
      this.checkNames.set(name, path);
    }
    const schedule = this.buildSchedule(path, interval, cron, defaults.interval);
    const timeoutMs = timeout ?? defaults.timeout ?? DEFAULT_TIMEOUT_MS;
    if (schedule) this.checkTimeout(path, timeoutMs, schedule, timeout !== undefined);
    if (!full.success) return undefined;
    const settings = Object.fromEntries(Object.entries(full.data).filter(([key]) => !(key in checkCommonShape)));
    for (const problem of kind.checkSettings(target, settings)) {
      this.add([...path, ...problem.path], `${formatPath([...path, ...problem.path])}: ${problem.message}`);
    }
    if (!schedule) return undefined;
    return { name, kind: kind.kind, target, schedule, timeoutMs, settings };
  }

  private buildSchedule(path: ConfigPath, interval: number | undefined, cron: string | undefined, defaultInterval: number | undefined): ScheduleSpec | undefined {
    if (interval !== undefined && cron !== undefined) {
      this.add([...path, 'cron'], `${formatPath(path)}: give interval: or cron:, not both`);
      return undefined;
    }
    if (cron === undefined) return { type: 'interval', intervalMs: interval ?? defaultInterval ?? DEFAULT_INTERVAL_MS };
    const gap = cronMinGapMs(cron);
    if (typeof gap === 'string') {
      this.add([...path, 'cron'], `${formatPath([...path, 'cron'])}: "${cron}" is not a cron expression (${gap})`);
      return undefined;
    }
    return { type: 'cron', expression: cron };
  }

  private checkTimeout(path: ConfigPath, timeoutMs: number, schedule: ScheduleSpec, explicit: boolean): void {
    const periodMs = schedule.type === 'interval' ? schedule.intervalMs : cronMinGapMs(schedule.expression);
    if (typeof periodMs !== 'number' || timeoutMs < periodMs) return;
    const what = schedule.type === 'interval' ? 'interval' : 'shortest gap between cron runs';
    const field = explicit ? 'timeout' : schedule.type === 'interval' ? 'interval' : 'cron';
    this.add(
      [...path, field],
      `${formatPath([...path, field])}: timeout ${formatDuration(timeoutMs)} must be shorter than the ${what} (${formatDuration(periodMs)}), or runs would overlap`,
    );
  }

  private checkLabelNames(labels: Readonly<Record<string, string>>, path: ConfigPath): void {
    for (const name of Object.keys(labels)) {
      const where = formatPath([...path, name]);
      if (!LABEL_NAME_PATTERN.test(name) || name.startsWith('__')) {
        this.diagnostics.push(this.source.diagnostic([...path, name], `${where}: "${name}" is not a valid label name ([a-zA-Z_][a-zA-Z0-9_]*, no leading __)`, true));
      } else if (RESERVED_LABELS.has(name)) {
        this.diagnostics.push(this.source.diagnostic([...path, name], `${where}: "${name}" is a label Vantage sets itself; pick another name`, true));
      }
    }
  }

  private report(path: ConfigPath, issues: Parameters<typeof issuesToDiagnostics>[2]): void {
    this.diagnostics.push(...issuesToDiagnostics(this.source, path, issues));
  }

  private add(path: ConfigPath, message: string): void {
    this.diagnostics.push(this.source.diagnostic(path, message));
  }
}
