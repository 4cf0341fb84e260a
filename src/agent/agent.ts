import type { CheckRegistry } from '../checks/registry.js';
import { elapsedMs } from '../clock.js';
import type { Clock } from '../clock.js';
import { DEFAULT_TRIGGERED_TRACEROUTE } from '../config/agent-config.js';
import type { AgentConfig, AgentIdentity, ListenAddress } from '../config/agent-config.js';
import { runPaced } from '../config/pace.js';
import { watchConfigFile } from '../config/watch.js';
import { EgressMonitor } from '../egress/egress-monitor.js';
import type { Logger } from '../log.js';
import { AgentMetrics } from '../metrics/agent-metrics.js';
import { ProbeRecorder } from '../metrics/probe-recorder.js';
import { MetricRegistries } from '../metrics/registries.js';
import { askEgress } from '../net/egress-lookup.js';
import type { NetDeps } from '../net/net-deps.js';
import { QualityService } from '../quality/quality-service.js';
import { HistoryStore } from '../history/history-store.js';
import { DEFAULT_HISTORY_SETTINGS } from '../history/history-settings.js';
import { servePage } from '../pages/pages.js';
import type { ConfigState, StatusSource } from '../pages/status-source.js';
import { RankingService } from '../ranking/ranking-service.js';
import type { EventSink } from '../report/event-sinks.js';
import { createSinks } from '../report/sink-factory.js';
import { Scheduler } from '../schedule/scheduler.js';
import { VERSION } from '../version.js';
import { startMetricsServer } from '../web/server.js';
import type { MetricsServer } from '../web/server.js';
import { WebConfigSource } from '../web/web-config-source.js';
import { CheckExecutor } from './check-executor.js';
import { CheckSet } from './check-set.js';
import { HeapTrim } from './heap-trim.js';
import type { HeapPressure } from './heap-trim.js';
import { setProbeThreadNice } from './probe-thread-priority.js';
import type { ThreadNice } from './probe-thread-priority.js';
import { ConfigReloader } from './config-reloader.js';
import type { DiagnoseEndpoint } from './diagnose-endpoint.js';
import { SkippedRunsLog } from './skipped-runs-log.js';
import { TraceTrigger } from './triggered-trace.js';

export interface AgentOptions {
  configFile: string;
  /** Overrides the config's `listen`. */
  listen?: ListenAddress;
  /** `--web.config.file`: overrides the config's `web.config_file`. */
  webConfigFile?: string;
  registry: CheckRegistry;
  net: NetDeps;
  clock: Clock;
  log: Logger;
  env?: NodeJS.ProcessEnv;
  /** Watch the config file and reload on change (SIGHUP always reloads). Default true. */
  watch?: boolean;
  /** The calling thread's nice, set to `probe_thread_nice` at start-up; left alone without it (in-process tests). */
  threadNice?: ThreadNice;
  /**
   * Asks this thread's V8 for memory-reducing GCs as `heap_trim` says, or why it cannot (logged once
   * if trims are enabled); no trims without it (in-process tests).
   */
  heapPressure?: HeapPressure | Error;
}

/**
 * The composition root of `vantage run`: builds the pipeline (scheduler, executor, checks,
 * recorder), the server and the reloader, and applies each config's agent-wide parts (identity
 * labels, sinks, egress, traces) here; the checks' diff-and-apply is CheckSet's.
 */
export class Agent {
  private readonly registries = new MetricRegistries();
  private readonly agentMetrics = new AgentMetrics(this.registries, { version: VERSION });
  private readonly scheduler: Scheduler;
  private readonly checks: CheckSet;
  private readonly reloader: ConfigReloader;
  private readonly trigger: TraceTrigger;
  private readonly skippedLog: SkippedRunsLog;
  private readonly egress: EgressMonitor;
  private readonly heapTrim: HeapTrim | undefined;
  /** Loaded on the first /diagnose (loadDiagnoseEndpoint): most agents never serve a report. */
  private diagnoseEndpoint: Promise<DiagnoseEndpoint> | undefined;
  /** The network-quality model, fed by every finished run; its read API is for pages and ranking. */
  readonly quality: QualityService;
  /** Server sets ranked fastest first from the quality model. */
  readonly ranking: RankingService;
  private readonly web: WebConfigSource;
  /** Recent results per check and IP, for the status pages. */
  private readonly history: HistoryStore;
  private configState: ConfigState = { rejected: [] };
  private sinks: EventSink[] = [];
  private sinksKey = '[]';
  private config: AgentConfig | undefined;
  private server: MetricsServer | undefined;
  private stopWatching: (() => void) | undefined;
  private ready = false;
  private stopped = false;
  private icmpOpened = false;

  constructor(private readonly opts: AgentOptions) {
    const { clock, log, net, registry } = opts;
    this.skippedLog = new SkippedRunsLog(log, clock);
    this.scheduler = new Scheduler(clock, 1, {
      started: (_job, lagMs) => this.agentMetrics.schedulerLag(lagMs),
      skipped: (job, reason, count) => {
        this.agentMetrics.runSkipped(job.name, this.checks.kindOf(job.name) ?? '', reason, count);
        this.skippedLog.skipped(job.name, reason, count);
      },
      failed: (job, err) => log.error({ check: job.name, err }, 'run failed unexpectedly'),
    });
    this.trigger = new TraceTrigger(net.icmp, clock, DEFAULT_TRIGGERED_TRACEROUTE);
    const executor = new CheckExecutor({
      clock,
      log,
      identity: () => this.identity(),
      registry,
      trigger: this.trigger,
      sinks: () => this.sinks,
      finished: (spec, results) => this.history.record(spec, results),
    });
    this.history = new HistoryStore(DEFAULT_HISTORY_SETTINGS, (kind) => registry.get(kind)?.phases ?? []);
    this.quality = new QualityService({
      registries: this.registries,
      log,
      identity: () => this.identity(),
      sinks: () => this.sinks,
    });
    this.ranking = new RankingService({
      registries: this.registries,
      log,
      clock,
      identity: () => this.identity(),
      sinks: () => this.sinks,
      quality: this.quality,
    });
    this.checks = new CheckSet({
      registry,
      net,
      clock,
      scheduler: this.scheduler,
      executor,
      recorder: new ProbeRecorder(this.registries, registry.kinds()),
      agentMetrics: this.agentMetrics,
      quality: this.quality,
    });
    this.reloader = new ConfigReloader({
      file: opts.configFile,
      registry,
      env: opts.env ?? process.env,
      log,
      apply: (config, signal) => this.apply(config, signal),
      loaded: (ok) => {
        this.agentMetrics.configLoaded(ok, clock.wallMs());
        if (ok) this.configState = { ...this.configState, rejected: [] };
      },
      rejected: (problems) => {
        this.configState = { ...this.configState, rejected: problems, rejectedAt: clock.wallMs() };
      },
    });
    this.agentMetrics.watchSinks(() => this.sinks);
    this.agentMetrics.watchSeries(
      () => this.config?.seriesBudget ?? Number.POSITIVE_INFINITY,
      (count, budget) =>
        log.warn(
          { series: count, series_budget: budget },
          `the agent exposes ${count} series, past series_budget ${budget}: every series is stored again for ` +
            'every agent; turn off histograms, probe fewer IPs per target (ips:), or raise series_budget',
        ),
    );
    this.egress = new EgressMonitor({
      clock,
      log,
      identity: () => this.identity(),
      ask: askEgress,
      looked: (address) => this.agentMetrics.egressLooked(address),
      changed: (event) => {
        this.agentMetrics.egressChanged();
        log.warn(event, `egress IP changed from ${event.previous} to ${event.current}`);
        for (const sink of this.sinks) sink.send(event);
      },
      forgotten: () => this.agentMetrics.egressForgotten(),
    });
    this.web = new WebConfigSource({
      registries: this.registries,
      log,
      override: opts.webConfigFile,
      watch: opts.watch ?? true,
    });
    if (opts.heapPressure) {
      if (!(opts.heapPressure instanceof Error)) this.agentMetrics.heapTrimsEnabled();
      this.heapTrim = new HeapTrim(clock, opts.heapPressure, {
        trimmed: () => this.agentMetrics.heapTrimmed(),
        unavailable: (err) =>
          log.warn({ code: 'HEAP_TRIM_UNAVAILABLE' }, `${err.message}; the agent runs without heap_trim`),
      });
    }
    const icmpStats = net.icmp.stats?.bind(net.icmp);
    if (icmpStats) this.agentMetrics.watchIcmp(icmpStats);
  }

  /** Loads the config (throws `ConfigError` if it is bad), serves metrics, then schedules checks. */
  async start(): Promise<ListenAddress> {
    const config = await this.reloader.load();
    // Before the warm-ups: the HTTPS worker they start takes this thread's nice.
    if (this.opts.threadNice) this.setThreadNice(config.probeThreadNice, this.opts.threadNice);
    // Identity labels from the first scrape on: one while the warm-ups and the first apply run would
    // otherwise return series without them, which a Prometheus stores as series of their own.
    this.registries.setDefaultLabels(identityLabels(config.agent));
    await this.web.start(config.web.configFile);
    this.server = await startMetricsServer({
      registries: this.registries,
      listen: this.opts.listen ?? config.listen,
      isReady: () => this.ready,
      diagnose: async (query, wantsJson) => (await this.loadDiagnoseEndpoint()).handle(query, wantsJson),
      pages: (path) => servePage(this.statusSource(), path),
      fastest: (query) => this.ranking.reply(query),
      webConfig: () => this.web.current(),
      limits: config.web,
    });
    // The adapters' warm-ups end before the first run is scheduled, so none of it is spent from a
    // first run's timeout (checks also wait for them before their first stamp).
    await this.opts.net.ready?.(config.checks.map((c) => c.kind));
    await this.apply(config);
    const trimMs = this.heapTrim?.started();
    if (trimMs !== undefined) this.opts.log.info({ ms: Math.round(trimMs) }, 'heap trimmed after start-up');
    this.ranking.start();
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
   */
  reload(opts: { onlyIfChanged?: boolean } = {}): Promise<boolean> {
    // SIGHUP re-reads the web config even when the main config is unchanged (a rotated certificate).
    if (!opts.onlyIfChanged) void this.web.reload();
    return this.reloader.reload(opts.onlyIfChanged ?? false);
  }

  /** Stops scheduling, cancels runs in flight (waiting up to `deadlineMs`), closes the server. */
  async stop(deadlineMs: number): Promise<boolean> {
    this.ready = false;
    this.stopped = true;
    this.stopWatching?.();
    this.web.stop();
    await this.reloader.stop();
    this.egress.stop();
    this.heapTrim?.stop();
    this.ranking.stop();
    // A load that failed was answered to its /diagnose requests already.
    void this.diagnoseEndpoint?.then(
      (endpoint) => endpoint.stop(),
      () => undefined,
    );
    // One deadline for all of it: runs in flight get it less a share for the sinks to deliver what
    // those runs reported, and the sinks get whatever the runs left.
    const startNs = this.opts.clock.monotonicNs();
    const sinkShareMs = this.sinks.length > 0 ? Math.min(1_000, deadlineMs / 4) : 0;
    const clean = await this.scheduler.stop(deadlineMs - sinkShareMs);
    this.skippedLog.stop();
    this.opts.net.icmp.close?.();
    const leftMs = Math.max(0, deadlineMs - elapsedMs(startNs, this.opts.clock.monotonicNs()));
    await Promise.all([...this.sinks.map((sink) => sink.close(leftMs)), this.quality.close()]);
    await this.server?.close();
    return clean;
  }

  /**
   * Makes `config` the running one. The checks' new instances are built first, so a failure or a
   * stop leaves the running config untouched; then the agent-wide parts apply and the checks'
   * jobs are swapped. Both check steps pause for the event loop (5,000 checks take 50-100 ms each).
   */
  private async apply(config: AgentConfig, signal?: AbortSignal): Promise<void> {
    const commitChecks = await runPaced(this.checks.prepare(config.checks, config.agent.id), { signal });
    const previous = this.config;
    this.config = config;
    if (previous && (previous.listen.host !== config.listen.host || previous.listen.port !== config.listen.port)) {
      this.opts.log.warn({ listen: config.listen }, 'listen address changed: restart the agent to apply it');
    }
    this.registries.setDefaultLabels(identityLabels(config.agent));
    this.server?.setLimits(config.web);
    if (previous) void this.web.configure(config.web.configFile);
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
    this.heapTrim?.configure(config.heapTrim);
    this.quality.configure(config.quality);
    this.history.configure(config.history);
    this.ranking.configure(config.serverSets, config.checks);
    this.scheduler.setMaxConcurrent(config.maxConcurrentRuns);
    await runPaced(commitChecks());
    this.history.retain(config.checks);
    this.configState = { ...this.configState, appliedAt: this.opts.clock.wallMs() };
  }

  /**
   * The diagnose endpoint and its HTML report, loaded once. A load that fails fails every /diagnose
   * with its error (a 500 naming it), never the agent.
   */
  private loadDiagnoseEndpoint(): Promise<DiagnoseEndpoint> {
    const { net, clock, log } = this.opts;
    this.diagnoseEndpoint ??= Promise.all([
      import('./diagnose-endpoint.js'),
      import('../pages/diagnosis-html.js'),
    ]).then(([{ DiagnoseEndpoint }, { diagnosisDocument }]) => {
      const endpoint = new DiagnoseEndpoint({
        net,
        clock,
        log,
        config: () => this.config,
        html: diagnosisDocument,
        quality: (target) => this.quality.target(target),
      });
      // Stopped while it loaded: it refuses, as it would have had it been there at the stop.
      if (this.stopped) endpoint.stop();
      return endpoint;
    });
    return this.diagnoseEndpoint;
  }

  /** What the status pages read. */
  private statusSource(): StatusSource {
    return {
      config: () => this.config,
      configState: () => this.configState,
      egressIp: () => this.egress.address,
      history: (target) => this.history.target(target),
      quality: (target) => this.quality.target(target),
      rank: (target) =>
        (this.config?.serverSets ?? []).flatMap((set) => {
          const endpoints = set.targets.includes(target) ? (this.ranking.fastest(set.name)?.endpoints ?? []) : [];
          const rank = endpoints.find((e) => e.target === target)?.rank;
          return rank ? [{ set: set.name, rank, of: endpoints.length }] : [];
        }),
      wallMs: () => this.opts.clock.wallMs(),
      version: VERSION,
    };
  }

  private setThreadNice(want: number, thread: ThreadNice): void {
    const { nice, denied } = setProbeThreadNice(want, thread);
    this.agentMetrics.probeThreadNice(nice);
    if (denied) this.opts.log.info({ code: denied.code, probe_thread_nice: want, nice }, denied.message);
    else this.opts.log.info({ nice }, 'probe thread nice');
  }

  /**
   * With kinds that need the raw ICMP sockets configured, a missing CAP_NET_RAW is said once at
   * start-up (a log line with the fix, vantage_icmp_available 0), not first found by a probe later.
   */
  private openIcmpSockets(config: AgentConfig): void {
    const needsIcmp = config.checks.some((c) => this.opts.registry.get(c.kind)?.needs.includes('raw-icmp'));
    if (this.icmpOpened || !needsIcmp) return;
    this.icmpOpened = true;
    this.opts.net.icmp.configure?.(config.icmpSocket);
    for (const family of [4, 6] as const) {
      const failure = this.opts.net.icmp.open?.(family);
      if (failure) this.opts.log.warn({ code: failure.code, family: `ipv${family}` }, failure.message);
      const socket = this.opts.net.icmp.stats?.().socketKind[family];
      if (socket) this.opts.log.info({ family: `ipv${family}`, socket, icmp_socket: config.icmpSocket }, 'ICMP socket');
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
