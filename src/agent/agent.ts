import { createHash } from 'node:crypto';
import type { Check, CheckSpec } from '../checks/check.js';
import type { CheckRegistry } from '../checks/registry.js';
import { CheckExecutor } from './check-executor.js';
import { createJob, instantiate } from './check-jobs.js';
import type { Clock } from '../clock.js';
import { DEFAULT_TRIGGERED_TRACEROUTE } from '../config/agent-config.js';
import type { AgentConfig, AgentIdentity, ListenAddress } from '../config/agent-config.js';
import { ConfigError, formatDiagnostic } from '../config/diagnostics.js';
import { parseConfig, readConfigText } from '../config/load.js';
import { watchConfigFile } from '../config/watch.js';
import type { Logger } from '../log.js';
import { AgentMetrics } from '../metrics/agent-metrics.js';
import { ProbeRecorder } from '../metrics/probe-recorder.js';
import { MetricRegistries } from '../metrics/registries.js';
import { startMetricsServer } from '../metrics/server.js';
import type { MetricsServer } from '../metrics/server.js';
import type { NetDeps } from '../net/net-deps.js';
import { Scheduler } from '../schedule/scheduler.js';
import type { EventSink } from '../report/event-sinks.js';
import { createSinks } from '../report/sink-factory.js';
import { TraceTrigger } from './triggered-trace.js';
import { DiagnoseEndpoint } from '../diagnose/diagnose-endpoint.js';
import { askEgress } from '../egress/egress-lookup.js';
import { EgressMonitor } from '../egress/egress-monitor.js';
import { VERSION } from '../version.js';

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

/** A scheduled check. Replaced as a whole when its schedule-relevant definition changes. */
interface Scheduled {
  /** What the schedule and series depend on; a change means a new job and fresh series. */
  fingerprint: string;
  /** The current instance: swapped in place when only descriptive fields (group, labels) change. */
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
  private readonly trigger: TraceTrigger;
  private readonly egress: EgressMonitor;
  private readonly diagnoseEndpoint: DiagnoseEndpoint;
  private sinks: EventSink[] = [];
  private sinksKey = '[]';
  private readonly scheduled = new Map<string, Scheduled>();
  private config: AgentConfig | undefined;
  /** Hash of the file text last read, good or bad: a watcher event for the same text is no news. */
  private lastSeenHash = '';
  private server: MetricsServer | undefined;
  private stopWatching: (() => void) | undefined;
  private reloading: Promise<boolean> = Promise.resolve(true);
  private stopping = false;
  private ready = false;
  private icmpOpened = false;

  constructor(private readonly opts: AgentOptions) {
    this.recorder = new ProbeRecorder(this.registries, opts.registry.kinds());
    this.scheduler = new Scheduler(opts.clock, 1, {
      started: (_job, lagMs) => this.agentMetrics.schedulerLag(lagMs),
      skipped: (job, reason, count) => {
        const entry = this.scheduled.get(job.name);
        this.agentMetrics.runSkipped(job.name, entry?.check.spec.kind ?? '', reason, count);
        opts.log.warn({ check: job.name, reason, count }, 'runs skipped');
      },
      failed: (job, err) => opts.log.error({ check: job.name, err }, 'run failed unexpectedly'),
    });
    this.trigger = new TraceTrigger(opts.net.icmp, opts.clock, DEFAULT_TRIGGERED_TRACEROUTE);
    this.executor = new CheckExecutor({
      clock: opts.clock,
      log: opts.log,
      identity: () => this.identity(),
      registry: opts.registry,
      trigger: this.trigger,
      sinks: () => this.sinks,
    });
    this.agentMetrics.watchSinks(() => this.sinks);
    this.egress = new EgressMonitor({
      clock: opts.clock,
      log: opts.log,
      identity: () => this.identity(),
      ask: askEgress,
      looked: (address) => this.agentMetrics.egressLooked(address),
      changed: (event) => {
        this.agentMetrics.egressChanged();
        opts.log.warn(event, `egress IP changed from ${event.previous} to ${event.current}`);
        for (const sink of this.sinks) sink.send(event);
      },
      forgotten: () => this.agentMetrics.egressForgotten(),
    });
    this.diagnoseEndpoint = new DiagnoseEndpoint({
      net: opts.net,
      clock: opts.clock,
      log: opts.log,
      config: () => this.config,
    });
    const icmpStats = opts.net.icmp.stats?.bind(opts.net.icmp);
    if (icmpStats) this.agentMetrics.watchIcmp(icmpStats);
  }

  /** Loads the config (throws `ConfigError` if it is bad), serves metrics, then schedules checks. */
  async start(): Promise<ListenAddress> {
    const config = await this.load();
    this.server = await startMetricsServer({
      registries: this.registries,
      listen: this.opts.listen ?? config.listen,
      isReady: () => this.ready,
      diagnose: (query, wantsJson) => this.diagnoseEndpoint.handle(query, wantsJson),
    });
    this.apply(config);
    if (this.opts.watch ?? true) {
      this.stopWatching = watchConfigFile(
        this.opts.configFile,
        () => void this.reload({ onlyIfChanged: true }),
        (err) => this.opts.log.warn({ err }, 'cannot watch the config file any more; reload with SIGHUP'),
      );
    }
    this.ready = true;
    this.opts.log.info(
      { listen: this.server.address, checks: config.checks.length, version: VERSION },
      'agent started',
    );
    return this.server.address;
  }

  /**
   * Re-reads the config. A bad file keeps the running config (logged, and
   * `vantage_config_last_reload_successful` drops to 0). Resolves true when the new config applies.
   * Reloads run one at a time, and not once the agent is stopping.
   */
  reload(opts: { onlyIfChanged?: boolean } = {}): Promise<boolean> {
    this.reloading = this.reloading.then(() => (this.stopping ? false : this.reloadNow(opts.onlyIfChanged ?? false)));
    return this.reloading;
  }

  /** Stops scheduling, cancels runs in flight (waiting up to `deadlineMs`), closes the server. */
  async stop(deadlineMs: number): Promise<boolean> {
    this.stopping = true;
    this.ready = false;
    this.stopWatching?.();
    await this.reloading;
    this.egress.stop();
    this.diagnoseEndpoint.stop();
    const clean = await this.scheduler.stop(deadlineMs);
    this.opts.net.icmp.close?.();
    await Promise.all(this.sinks.map((sink) => sink.close(Math.min(deadlineMs, 5_000))));
    await this.server?.close();
    return clean;
  }

  private async reloadNow(onlyIfChanged: boolean): Promise<boolean> {
    let text: string | undefined;
    try {
      text = await readConfigText(this.opts.configFile);
      const hash = sha256(text);
      if (onlyIfChanged && hash === this.lastSeenHash) return true;
      this.lastSeenHash = hash;
      const config = parseConfig(this.opts.configFile, text, {
        registry: this.opts.registry,
        env: this.opts.env ?? process.env,
      });
      this.apply(config);
      this.agentMetrics.configLoaded(true, this.opts.clock.wallMs());
      this.opts.log.info({ checks: config.checks.length }, 'config reloaded');
      return true;
    } catch (err) {
      this.agentMetrics.configLoaded(false, this.opts.clock.wallMs());
      if (err instanceof ConfigError) {
        const problems = err.diagnostics.map(formatDiagnostic);
        this.opts.log.error(
          { event: 'config_rejected', problems, file: this.opts.configFile },
          'new config rejected; still running the previous one',
        );
      } else {
        this.opts.log.error(
          { err, file: this.opts.configFile },
          'applying the new config failed; still running the previous one',
        );
      }
      return false;
    }
  }

  private async load(): Promise<AgentConfig> {
    const text = await readConfigText(this.opts.configFile);
    const config = parseConfig(this.opts.configFile, text, {
      registry: this.opts.registry,
      env: this.opts.env ?? process.env,
    });
    this.lastSeenHash = sha256(text);
    this.agentMetrics.configLoaded(true, this.opts.clock.wallMs());
    return config;
  }

  /**
   * With ping or traceroute checks configured, a missing CAP_NET_RAW is said once at start-up (a
   * log line with the fix, vantage_icmp_available 0), not first found by a probe minutes later.
   */
  private openIcmpSockets(config: AgentConfig): void {
    const needsIcmp = config.checks.some((c) => this.opts.registry.get(c.kind)?.needs.includes('raw-icmp'));
    if (this.icmpOpened || !needsIcmp) return;
    this.icmpOpened = true;
    for (const family of [4, 6] as const) {
      const failure = this.opts.net.icmp.open?.(family);
      if (failure) this.opts.log.warn({ code: failure.code, family: `ipv${family}` }, failure.message);
    }
  }

  /**
   * Makes `config` the running one. New check instances are all built first, so a failure leaves
   * the running config untouched. Checks whose schedule-relevant definition did not change keep
   * their job, schedule and series.
   */
  private apply(config: AgentConfig): void {
    const next = new Map<string, Scheduled>();
    for (const spec of config.checks) {
      const current = this.scheduled.get(spec.name);
      const fingerprint = scheduleFingerprint(spec);
      const unchanged =
        current?.fingerprint === fingerprint && JSON.stringify(current.check.spec) === JSON.stringify(spec);
      next.set(spec.name, {
        fingerprint,
        check: unchanged ? current.check : instantiate(spec, this.opts.registry, this.opts.net),
      });
    }
    const previous = this.config;
    this.config = config;
    if (previous && (previous.listen.host !== config.listen.host || previous.listen.port !== config.listen.port)) {
      this.opts.log.warn({ listen: config.listen }, 'listen address changed: restart the agent to apply it');
    }
    this.registries.setDefaultLabels(identityLabels(config.agent));
    this.openIcmpSockets(config);
    this.trigger.reconfigure(config.triggeredTraceroute);
    const sinksKey = JSON.stringify(config.eventSinks);
    if (sinksKey !== this.sinksKey) {
      const old = this.sinks;
      this.sinks = createSinks(config.eventSinks, this.opts.clock, this.opts.log);
      this.sinksKey = sinksKey;
      for (const sink of old) void sink.close(5_000);
    }
    this.egress.reconfigure(config.egress);
    this.scheduler.setMaxConcurrent(config.maxConcurrentRuns);
    for (const [name, entry] of this.scheduled) {
      const replacement = next.get(name);
      if (replacement?.fingerprint === entry.fingerprint) {
        entry.check = replacement.check;
        next.set(name, entry);
        continue;
      }
      // Forget at once: the cancelled run will not record (see runScheduled).
      this.scheduled.delete(name);
      this.recorder.forget(name);
      this.agentMetrics.forgetCheck(name, entry.check.spec.kind);
      void this.scheduler.remove(name);
    }
    const counts = new Map<string, number>();
    for (const [name, entry] of next) {
      counts.set(entry.check.spec.kind, (counts.get(entry.check.spec.kind) ?? 0) + 1);
      if (this.scheduled.get(name) === entry) continue;
      this.scheduled.set(name, entry);
      this.scheduler.add(
        createJob(entry.check, config.agent.id, this.opts.clock, (signal) => this.runScheduled(entry, signal)),
      );
    }
    this.agentMetrics.setChecksConfigured(counts, this.opts.registry.names());
    this.agentMetrics.setTargets([...new Map(config.checks.map((c) => [c.target.name, c.target])).values()]);
  }

  private async runScheduled(entry: Scheduled, signal: AbortSignal): Promise<void> {
    this.agentMetrics.inFlight.inc();
    try {
      const results = await this.executor.execute(entry.check, signal);
      // A run cancelled by a reload or shutdown says nothing about the target, and one whose check
      // left the config must not bring its series back.
      const cancelled = results.every((r) => r.error?.code === 'ABORTED');
      if (!cancelled && this.scheduled.get(entry.check.spec.name) === entry)
        this.recorder.record(entry.check.spec, results);
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
function identityLabels(agent: AgentIdentity): Record<string, string> {
  return {
    agent: agent.id,
    region: agent.region,
    carrier: agent.carrier,
    network_type: agent.networkType,
    ...agent.labels,
  };
}

/** What a check's job and series depend on: not the target's group or labels. */
function scheduleFingerprint(spec: CheckSpec): string {
  const { name, host, url } = spec.target;
  return JSON.stringify({
    kind: spec.kind,
    target: { name, host, url },
    schedule: spec.schedule,
    timeoutMs: spec.timeoutMs,
    settings: spec.settings,
  });
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
