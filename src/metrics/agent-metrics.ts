import type { Counter, Gauge, Histogram } from 'prom-client';
import type { TargetSpec } from '../checks/check.js';
import type { IcmpEngineStats } from '../net/icmp/icmp-engine.js';
import type { EventSink } from '../report/event-sinks.js';
import { AGENT_METRICS } from './catalogue.js';
import { SKIP_REASONS } from '../schedule/scheduler.js';
import type { MetricRegistries } from './registries.js';

/** The agent's metrics about itself: build, config reloads, scheduling health. */
export class AgentMetrics {
  private readonly reloadSuccess: Gauge;
  private readonly reloadTimestamp: Gauge;
  private readonly reloads: Counter;
  private readonly checksConfigured: Gauge;
  private readonly skipped: Counter;
  private readonly lag: Histogram;
  readonly inFlight: Gauge;
  private targetInfo: Gauge;
  private readonly egressInfo: Gauge;
  private readonly egressChanges: Counter;
  private readonly egressLookups: Counter;
  private targetLabelNames: string[] = [];

  constructor(
    private readonly registries: MetricRegistries,
    build: { version: string },
  ) {
    registries.gauge(AGENT_METRICS.buildInfo).set({ version: build.version, node_version: process.version }, 1);
    this.reloadSuccess = registries.gauge(AGENT_METRICS.reloadSuccess);
    this.reloadTimestamp = registries.gauge(AGENT_METRICS.reloadTimestamp);
    this.reloads = registries.counter(AGENT_METRICS.reloads);
    this.checksConfigured = registries.gauge(AGENT_METRICS.checksConfigured);
    this.skipped = registries.counter(AGENT_METRICS.skipped);
    this.lag = registries.histogram(AGENT_METRICS.schedulerLag);
    this.inFlight = registries.gauge(AGENT_METRICS.inFlight);
    this.targetInfo = registries.gauge(AGENT_METRICS.targetInfo);
    this.egressInfo = registries.gauge(AGENT_METRICS.egressInfo);
    this.egressChanges = registries.counter(AGENT_METRICS.egressChanges);
    this.egressLookups = registries.counter(AGENT_METRICS.egressLookups);
  }

  /** Reads the ICMP engine's counters at every scrape. */
  watchIcmp(stats: () => IcmpEngineStats): void {
    this.registries.gauge(AGENT_METRICS.icmpAvailable, (gauge) => {
      gauge.reset();
      for (const [family, up] of Object.entries(stats().available))
        gauge.set({ family: `ipv${family}`, implementation: 'native-kernel-timestamps' }, up ? 1 : 0);
    });
    this.registries.counter(AGENT_METRICS.icmpPackets, (counter) => {
      const s = stats();
      counter.reset();
      for (const [event, value] of [
        ['sent', s.sent],
        ['received', s.received],
        ['duplicate', s.duplicates],
        ['late', s.late],
        ['unmatched', s.unmatched],
      ] as const) {
        counter.inc({ event }, value);
      }
    });
    this.registries.counter(AGENT_METRICS.icmpSocketErrors, (counter) => {
      counter.reset();
      counter.inc(stats().socketErrors);
    });
  }

  /** Reads the event sinks' queues and drop counts at every scrape. */
  watchSinks(sinks: () => readonly EventSink[]): void {
    this.registries.counter(AGENT_METRICS.sinkDropped, (counter) => {
      counter.reset();
      for (const sink of sinks()) counter.inc({ sink: sink.name }, sink.dropped());
    });
    this.registries.gauge(AGENT_METRICS.sinkQueued, (gauge) => {
      gauge.reset();
      for (const sink of sinks()) gauge.set({ sink: sink.name }, sink.queued());
    });
  }

  /** A scheduled egress lookup ended; `address` null: no echo service gave one (the last stays). */
  egressLooked(address: string | null): void {
    this.egressLookups.inc({ result: address === null ? 'failure' : 'success' });
    if (address === null) return;
    this.egressInfo.reset();
    this.egressInfo.set({ address }, 1);
  }

  /** Egress lookups were turned off: no address is claimed any more. */
  egressForgotten(): void {
    this.egressInfo.reset();
  }

  egressChanged(): void {
    this.egressChanges.inc();
  }

  configLoaded(ok: boolean, wallMs: number): void {
    this.reloadSuccess.set(ok ? 1 : 0);
    this.reloads.inc({ result: ok ? 'success' : 'failure' });
    if (ok) this.reloadTimestamp.set(wallMs / 1000);
  }

  setChecksConfigured(countByKind: ReadonlyMap<string, number>, allKinds: readonly string[]): void {
    for (const kind of allKinds) this.checksConfigured.set({ kind }, countByKind.get(kind) ?? 0);
  }

  runSkipped(check: string, kind: string, reason: string, count: number): void {
    this.skipped.inc({ check, kind, reason }, count);
  }

  forgetCheck(check: string, kind: string): void {
    for (const reason of SKIP_REASONS) this.skipped.remove({ check, kind, reason });
  }

  schedulerLag(lagMs: number): void {
    this.lag.observe(Math.max(0, lagMs) / 1000);
  }

  /** One series per target; its label names are the union of all targets' own label names. */
  setTargets(targets: readonly TargetSpec[]): void {
    const names = [...new Set(targets.flatMap((t) => Object.keys(t.labels)))].sort();
    if (names.join(',') !== this.targetLabelNames.join(',')) {
      this.registries.unregister(AGENT_METRICS.targetInfo.name);
      this.targetInfo = this.registries.gauge({
        ...AGENT_METRICS.targetInfo,
        labels: [...AGENT_METRICS.targetInfo.labels, ...names],
      });
      this.targetLabelNames = names;
    }
    this.targetInfo.reset();
    for (const target of targets) {
      const extra = Object.fromEntries(names.map((n) => [n, target.labels[n] ?? '']));
      this.targetInfo.set({ target: target.name, group: target.group, ...extra }, 1);
    }
  }
}
