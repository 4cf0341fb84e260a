import { hostname as osHostname } from 'node:os';
import type { CheckSpec, TargetSpec } from '../checks/check.js';
import type { CheckRegistry } from '../checks/registry.js';
import { DEFAULT_LISTEN, deepFreeze, parseListen, RESERVED_LABELS, triggeredTraceroute } from './agent-config.js';
import type { AgentConfig, AgentIdentity } from './agent-config.js';
import { CheckEntries } from './check-entry.js';
import type { Defaults } from './check-entry.js';
import { ConfigError } from './diagnostics.js';
import { Reporter } from './reporter.js';
import { agentSchema, configSchema, defaultsSchema, LABEL_NAME_PATTERN, targetSchema } from './schema.js';
import type { RawTarget } from './schema.js';
import { YamlSource } from './yaml-source.js';
import { readConfigText } from './read-config.js';
import { runNow, runPaced } from './pace.js';
import type { PaceOptions, Steps } from './pace.js';
import type { ConfigPath } from '../settings/config-path.js';
import { webServerConfig } from '../settings/web-config-keys.js';
import { formatPath } from './zod-diagnostics.js';
import { stripBrackets } from '../net/address.js';
import { qualitySettings } from '../quality/quality-settings.js';
import { historySettings } from '../history/history-settings.js';
import { serverSets } from '../ranking/ranking-settings.js';
import type { ServerSet } from '../ranking/ranking-settings.js';

export interface LoadOptions {
  registry: CheckRegistry;
  env?: NodeJS.ProcessEnv;
  hostname?: string;
}

/** Reads and validates a config file; every problem is reported at once in a `ConfigError`. */
export async function loadConfigFile(file: string, opts: LoadOptions): Promise<AgentConfig> {
  return parseConfig(file, await readConfigText(file), opts);
}

/** Validates config text in one go; `file` is only used in diagnostics. The result is frozen. */
export function parseConfig(file: string, text: string, opts: LoadOptions): AgentConfig {
  return runNow(configSteps(file, text, opts));
}

/**
 * Validates config text as `parseConfig` does, giving the event loop a turn whenever a stretch has
 * taken `pace.budgetMs` (a running agent's reload: probes keep their timing while 5,000 checks are
 * read). Rejects with the signal's reason when `pace.signal` aborts.
 */
export function parseConfigPaced(
  file: string,
  text: string,
  opts: LoadOptions,
  pace?: PaceOptions,
): Promise<AgentConfig> {
  return runPaced(configSteps(file, text, opts), pace);
}

function* configSteps(file: string, text: string, opts: LoadOptions): Steps<AgentConfig> {
  const source = yield* YamlSource.parseSteps(file, text);
  if (source.diagnostics.length > 0) throw new ConfigError(source.diagnostics);
  yield* source.interpolate(opts.env ?? process.env);
  yield;
  const data = source.toJS();
  yield;
  const report = new Reporter(source);
  const config = yield* build(data, report, opts);
  if (report.diagnostics.length > 0 || !config) throw new ConfigError(report.diagnostics);
  yield;
  return deepFreeze({ ...config, file });
}

/**
 * Each part (top level, agent, defaults, every target, every check) is validated on its own, so
 * a mistake in one never hides a mistake in another, nor drops valid values others depend on.
 */
function* build(data: unknown, report: Reporter, opts: LoadOptions): Steps<Omit<AgentConfig, 'file'> | undefined> {
  const top = configSchema.safeParse(data ?? {}, { reportInput: true });
  if (!top.success) report.issues([], top.error.issues);
  const raw = (data ?? {}) as Record<string, unknown>;
  const agent = agentSchema.safeParse(raw.agent ?? {}, { reportInput: true });
  if (!agent.success) report.issues(['agent'], agent.error.issues);
  else checkLabelNames(agent.data.labels, ['agent', 'labels'], report);
  const defaults = defaultsSchema.safeParse(raw.defaults ?? {}, { reportInput: true });
  if (!defaults.success) report.issues(['defaults'], defaults.error.issues);
  const checks = Array.isArray(raw.targets)
    ? yield* buildTargets(raw.targets, report, opts.registry, defaults.data ?? {})
    : [];
  let listen = DEFAULT_LISTEN;
  if (top.success && top.data.listen !== undefined) {
    const parsed = parseListen(top.data.listen);
    if (!parsed)
      report.add(['listen'], `listen: "${top.data.listen}" is not HOST:PORT (e.g. 0.0.0.0:9477 or [::]:9477)`);
    listen = parsed ?? DEFAULT_LISTEN;
  }
  if (top.success) {
    // Resolver specs are the dns kind's: let it judge them now rather than at the first report.
    const dns = opts.registry.get('dns');
    top.data.diagnose_endpoint.resolvers.forEach((resolver, i) => {
      const parsed = dns?.settings.safeParse({ resolver: [resolver] });
      if (parsed && !parsed.success)
        report.add(
          ['diagnose_endpoint', 'resolvers', i],
          `diagnose_endpoint.resolvers[${i}]: ${parsed.error.issues[0]?.message ?? 'not a resolver'}`,
        );
    });
  }
  if (top.success) {
    const targetNames = new Set(checks.map((c) => c.target.name));
    for (const name of Object.keys(top.data.quality.targets ?? {}))
      if (!targetNames.has(name))
        report.add(['quality', 'targets', name], `quality.targets.${name}: no target is named "${name}"`, true);
  }
  let sets: ServerSet[] = [];
  if (top.success) {
    const kinds = new Map<string, Set<string>>();
    for (const c of checks) kinds.set(c.target.name, (kinds.get(c.target.name) ?? new Set()).add(c.kind));
    const built = serverSets(top.data.server_sets, kinds);
    for (const p of built.problems) report.add(p.path, p.message, p.onKey);
    sets = built.sets;
  }
  if (!top.success || !agent.success) return undefined;
  const identity: AgentIdentity = {
    id: agent.data.id || (opts.hostname ?? osHostname()),
    region: agent.data.region,
    carrier: agent.data.carrier,
    networkType: agent.data.network_type,
    labels: agent.data.labels,
  };
  const { egress, diagnose_endpoint: endpoint } = top.data;
  return {
    agent: identity,
    listen,
    maxConcurrentRuns: top.data.max_concurrent_runs,
    icmpSocket: top.data.icmp_socket,
    probeThreadNice: top.data.probe_thread_nice,
    heapTrim: { enabled: top.data.heap_trim.enabled, intervalMs: top.data.heap_trim.interval },
    seriesBudget: top.data.series_budget,
    triggeredTraceroute: triggeredTraceroute(top.data.triggered_traceroute),
    eventSinks: top.data.events.sinks,
    egress: { urls: egress.urls, intervalMs: egress.interval, timeoutMs: egress.timeout },
    diagnoseEndpoint: {
      enabled: endpoint.enabled,
      minIntervalMs: endpoint.min_interval,
      resolvers: endpoint.resolvers,
      count: endpoint.count,
    },
    quality: qualitySettings(top.data.quality),
    history: historySettings(top.data.history),
    serverSets: sets,
    web: webServerConfig(top.data.web),
    checks,
  };
}

/** Target by target, with a step after each (a target's checks are validated together). */
function* buildTargets(
  rawTargets: readonly unknown[],
  report: Reporter,
  registry: CheckRegistry,
  defaults: Defaults,
): Steps<CheckSpec[]> {
  const entries = new CheckEntries(registry, report, defaults);
  const targetNames = new Map<string, ConfigPath>();
  const checks: CheckSpec[] = [];
  for (const [i, rawTarget] of rawTargets.entries()) {
    yield;
    const path = ['targets', i];
    const parsed = targetSchema.safeParse(rawTarget, { reportInput: true });
    if (!parsed.success) report.issues(path, parsed.error.issues);
    const target = parsed.success ? buildTarget(parsed.data, path, report) : undefined;
    if (target) {
      const seen = targetNames.get(target.name);
      if (seen)
        report.add(
          [...path, 'name'],
          `targets[${i}].name: duplicate target name "${target.name}" (first at ${formatPath(seen)})`,
        );
      else targetNames.set(target.name, path);
    }
    // Checks are validated even when their target is not, so their mistakes are reported too.
    const rawChecks = (rawTarget as { checks?: unknown } | null)?.checks;
    if (!Array.isArray(rawChecks)) continue;
    rawChecks.forEach((rawCheck, j) => {
      const check = entries.build(rawCheck, target, [...path, 'checks', j]);
      if (check) checks.push(check);
    });
  }
  return checks;
}

function buildTarget(raw: RawTarget, path: ConfigPath, report: Reporter): TargetSpec | undefined {
  checkLabelNames(raw.labels, [...path, 'labels'], report);
  if ((raw.host === undefined) === (raw.url === undefined)) {
    report.add([...path, 'name'], `${formatPath(path)}: give exactly one of host: and url:`);
    return undefined;
  }
  const host = raw.host ?? stripBrackets(new URL(raw.url ?? '').hostname);
  return { name: raw.name, host, ...(raw.url ? { url: raw.url } : {}), group: raw.group, labels: raw.labels };
}

function checkLabelNames(labels: Readonly<Record<string, string>>, path: ConfigPath, report: Reporter): void {
  for (const name of Object.keys(labels)) {
    const where = formatPath([...path, name]);
    if (!LABEL_NAME_PATTERN.test(name) || name.startsWith('__')) {
      report.add(
        [...path, name],
        `${where}: "${name}" is not a valid label name ([a-zA-Z_][a-zA-Z0-9_]*, no leading __)`,
        true,
      );
    } else if (RESERVED_LABELS.has(name)) {
      report.add(
        [...path, name],
        `${where}: "${name}" is a label Vantage or its process metrics set; pick another name`,
        true,
      );
    }
  }
}
