import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Check } from './checks/check.js';
import type { CheckRegistry } from './checks/registry.js';
import { CheckExecutor } from './check-executor.js';
import type { Clock } from './clock.js';
import type { AgentConfig, AgentIdentity, ListenAddress } from './config/agent-config.js';
import { ConfigError, formatDiagnostic } from './config/diagnostics.js';
import { parseConfig } from './config/load.js';
import { watchConfigFile } from './config/watch.js';
import type { Logger } from './log.js';
import { AgentMetrics } from './metrics/agent-metrics.js';
import { ProbeRecorder } from './metrics/probe-recorder.js';
import { MetricRegistries } from './metrics/registries.js';
import { startMetricsServer } from './metrics/server.js';
import type { MetricsServer } from './metrics/server.js';
import type { NetDeps } from './net/net-deps.js';
import { createJob, instantiate } from './check-jobs.js';
import { Scheduler } from './schedule/scheduler.js';
import { VERSION } from './version.js';

export interface AgentOptions {
  configFile: string;
  /** Overrides the config's `listen`. */
  listen?: ListenAddress;
  registry: CheckRegistry;
  net: NetDeps;
  clock: Clock;
  log: Logger;
  env?: NodeJS.ProcessEnv;
  /** Watch the config file and reload on change (SIGHUP always reloads). Default true. */
  watch?: boolean;
}

interface Scheduled {
  fingerprint: string;
  check: Check;
}

/**
 * The composition root of `vantage run`: config, scheduler, metrics, server, reloads. A bad
 * config at start-up is fatal (there is nothing to run); a bad config on reload is reported and
 * the last good one keeps running.
 */
export class Agent {
  private readonly registries = new MetricRegistries();
  private readonly agentMetrics = new AgentMetrics(this.registries, { version: VERSION });
  private readonly recorder: ProbeRecorder;
  private readonly scheduler: Scheduler;
  private readonly executor: CheckExecutor;
  private readonly scheduled = new Map<string, Scheduled>();
  private config: AgentConfig | undefined;
  private configHash = '';
  private server: MetricsServer | undefined;
  private stopWatching: (() => void) | undefined;
  private reloading: Promise<boolean> | undefined;
  private ready = false;

  constructor(private readonly opts: AgentOptions) {
    this.recorder = new ProbeRecorder(this.registries, opts.registry.kinds());
    this.scheduler = new Scheduler(opts.clock, 64, {
      started: (_job, lagMs) => this.agentMetrics.schedulerLag(lagMs),
      skipped: (job, reason, count) => {
        const entry = this.scheduled.get(job.name);
        this.agentMetrics.runSkipped(job.name, entry?.check.spec.kind ?? '', reason, count);
        opts.log.warn({ check: job.name, reason, count }, 'runs skipped');
      },
      failed: (job, err) => opts.log.error({ check: job.name, err }, 'run failed unexpectedly'),
    });
    this.executor = new CheckExecutor({
      clock: opts.clock,
      log: opts.log,
      identity: () => this.identity(),
    });
  }

  /** Loads the config (throws `ConfigError` if it is bad), schedules checks, serves metrics. */
  async start(): Promise<ListenAddress> {
    const { config, hash } = await this.load();
    this.apply(config, hash);
    this.agentMetrics.configLoaded(true, this.opts.clock.wallMs());
    this.server = await startMetricsServer({
      registries: this.registries,
      listen: this.opts.listen ?? config.listen,
      isReady: () => this.ready,
    });
    if (this.opts.watch ?? true) {
      this.stopWatching = watchConfigFile(this.opts.configFile, () => void this.reload({ onlyIfChanged: true }));
    }
    this.ready = true;
    this.opts.log.info({ listen: this.server.address, checks: config.checks.length, version: VERSION }, 'agent started');
    return this.server.address;
  }

  /**
   * Re-reads the config. A bad file keeps the running config (logged, and
   * `vantage_config_last_reload_successful` drops to 0). Resolves true when the new config applies.
   */
  reload(opts: { onlyIfChanged?: boolean } = {}): Promise<boolean> {
    const previous = this.reloading ?? Promise.resolve(true);
    const next = previous.then(() => this.reloadNow(opts.onlyIfChanged ?? false));
    this.reloading = next;
    return next;
  }

  /** Stops scheduling, cancels runs in flight (waiting up to `deadlineMs`), closes the server. */
  async stop(deadlineMs: number): Promise<boolean> {
    this.ready = false;
    this.stopWatching?.();
    const clean = await this.scheduler.stop(deadlineMs);
    await this.server?.close();
    return clean;
  }

  private async reloadNow(onlyIfChanged: boolean): Promise<boolean> {
    try {
      const { config, hash } = await this.load();
      if (onlyIfChanged && hash === this.configHash) return true;
      this.apply(config, hash);
      this.agentMetrics.configLoaded(true, this.opts.clock.wallMs());
      this.opts.log.info({ checks: config.checks.length }, 'config reloaded');
      return true;
    } catch (err) {
      if (onlyIfChanged && err instanceof ConfigError && this.configHash === (await this.hashFile())) return true;
      this.agentMetrics.configLoaded(false, this.opts.clock.wallMs());
      const problems = err instanceof ConfigError ? err.diagnostics.map(formatDiagnostic) : [String(err)];
      this.opts.log.error({ event: 'config_rejected', problems, file: this.opts.configFile }, 'new config rejected; still running the previous one');
      return false;
    }
  }

  private async load(): Promise<{ config: AgentConfig; hash: string }> {
    let text: string;
    try {
      text = await readFile(this.opts.configFile, 'utf8');
    } catch (err) {
      const reason = (err as NodeJS.ErrnoException).code ?? String(err);
      throw new ConfigError([{ file: this.opts.configFile, line: 1, col: 1, message: `cannot read the config file (${reason})` }]);
    }
    const config = parseConfig(this.opts.configFile, text, { registry: this.opts.registry, env: this.opts.env ?? process.env });
    return { config, hash: sha256(text) };
  }

  private async hashFile(): Promise<string> {
    try {
      return sha256(await readFile(this.opts.configFile, 'utf8'));
    } catch {
      return '';
    }
  }

  /** Makes `config` the running one; checks whose spec did not change keep their schedule. */
  private apply(config: AgentConfig, hash: string): void {
    const previous = this.config;
    this.config = config;
    this.configHash = hash;
    if (previous?.listen && (previous.listen.host !== config.listen.host || previous.listen.port !== config.listen.port)) {
      this.opts.log.warn({ listen: config.listen }, 'listen address changed: restart the agent to apply it');
    }
    this.registries.setDefaultLabels(identityLabels(config.agent));
    this.scheduler.setMaxConcurrent(config.maxConcurrentRuns);
    const wanted = new Map(config.checks.map((spec) => [spec.name, spec]));
    for (const [name, entry] of this.scheduled) {
      const spec = wanted.get(name);
      if (spec && JSON.stringify(spec) === entry.fingerprint) continue;
      // Forget at once: the cancelled run will not record (see runScheduled), so nothing brings them back.
      this.scheduled.delete(name);
      this.recorder.forget(name);
      this.agentMetrics.forgetCheck(name, entry.check.spec.kind);
      void this.scheduler.remove(name);
    }
    const counts = new Map<string, number>();
    for (const spec of config.checks) {
      counts.set(spec.kind, (counts.get(spec.kind) ?? 0) + 1);
      if (this.scheduled.has(spec.name)) continue;
      const check = instantiate(spec, this.opts.registry, this.opts.net);
      this.scheduled.set(spec.name, { fingerprint: JSON.stringify(spec), check });
      this.scheduler.add(createJob(check, config.agent.id, this.opts.clock, (signal) => this.runScheduled(check, signal)));
    }
    this.agentMetrics.setChecksConfigured(counts, this.opts.registry.names());
    this.agentMetrics.setTargets([...new Map(config.checks.map((c) => [c.target.name, c.target])).values()]);
  }

  private async runScheduled(check: Check, signal: AbortSignal): Promise<void> {
    this.agentMetrics.inFlight.inc();
    try {
      const results = await this.executor.execute(check, signal);
      // A run cancelled by a reload must not write series for a check that is gone or changed.
      if (this.scheduled.get(check.spec.name)?.check === check) this.recorder.record(check.spec, results);
    } finally {
      this.agentMetrics.inFlight.dec();
    }
  }

  private identity(): AgentIdentity {
    if (!this.config) throw new Error('agent has no config yet');
    return this.config.agent;
  }
}

/** The labels every series carries: identity plus the agent's extra labels. */
export function identityLabels(agent: AgentIdentity): Record<string, string> {
  return { agent: agent.id, region: agent.region, carrier: agent.carrier, network_type: agent.networkType, ...agent.labels };
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
