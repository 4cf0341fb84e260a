import type { Counter, Gauge, Histogram } from 'prom-client';
import type { TargetSpec } from '../checks/check.js';
import type { IcmpEngineStats } from '../net/icmp/echo.js';
import type { EventSink } from '../report/event-sinks.js';
import { AGENT_METRICS } from './catalogue.js';
import type { MetricRegistries } from './registries.js';
import type { Family } from './series-store.js';

/** Series store owners of the agent's series that grow with the config. */
const TARGETS_OWNER = 'targets';
const skippedOwner = (check: string): string => `skipped:${check}`;

/**
 * The agent's metrics about itself: build, config reloads, scheduling health. Most are a handful
 * of series in prom-client; the two that grow with the config (one series per target, skips per
 * check) live in the series store, so a scrape never renders thousands of them in one go.
 */
export class AgentMetrics {
  private readonly reloadSuccess: Gauge;
  private readonly reloadTimestamp: Gauge;
  private readonly reloads: Counter;
  private readonly checksConfigured: Gauge;
  private readonly skipped: Family;
  private readonly lag: Histogram;
  /** Runs started and not yet ended; vantage_runs_in_flight reads it at the scrape. */
  private runsInFlight = 0;
  private readonly targetInfo: Family;
  private readonly egressInfo: Gauge;
  private readonly egressChanges: Counter;
  private readonly egressLookups: Counter;
  /** Made when the agent sets its thread's nice (an agent in a test process leaves it alone). */
  private threadNice: Gauge | undefined;
  /** Made when the agent can trim its heap (an agent in a test process does not). */
  private heapTrimCount: Counter | undefined;

  constructor(
    private readonly registries: MetricRegistries,
    build: { version: string },
  ) {
    registries.gauge(AGENT_METRICS.buildInfo).set({ version: build.version, node_version: process.version }, 1);
    this.reloadSuccess = registries.gauge(AGENT_METRICS.reloadSuccess);
    this.reloadTimestamp = registries.gauge(AGENT_METRICS.reloadTimestamp);
    this.reloads = registries.counter(AGENT_METRICS.reloads);
    this.checksConfigured = registries.gauge(AGENT_METRICS.checksConfigured);
    this.skipped = registries.series.family(AGENT_METRICS.skipped);
    this.lag = registries.histogram(AGENT_METRICS.schedulerLag);
    // Read at the scrape: prom-client's inc() and dec() made a label hash each, twice a run.
    registries.gauge(AGENT_METRICS.inFlight, (gauge) => gauge.set(this.runsInFlight));
    this.targetInfo = registries.series.family(AGENT_METRICS.targetInfo);
    this.egressInfo = registries.gauge(AGENT_METRICS.egressInfo);
    this.egressChanges = registries.counter(AGENT_METRICS.egressChanges);
    this.egressLookups = registries.counter(AGENT_METRICS.egressLookups);
  }

  /** The nice the probe thread runs at (set once, at start-up). */
  probeThreadNice(nice: number): void {
    this.threadNice ??= this.registries.gauge(AGENT_METRICS.probeThreadNice);
    this.threadNice.set(nice);
  }

  /** Exposes vantage_heap_trims_total (0 until the first trim). */
  heapTrimsEnabled(): void {
    this.heapTrimCount ??= this.registries.counter(AGENT_METRICS.heapTrims);
  }

  heapTrimmed(): void {
    this.heapTrimCount?.inc();
  }

  /** Reads the ICMP engine's counters at every scrape. */
  watchIcmp(stats: () => IcmpEngineStats): void {
    this.registries.gauge(AGENT_METRICS.icmpAvailable, (gauge) => {
      gauge.reset();
      const { available, socketKind } = stats();
      for (const [family, up] of Object.entries(available)) {
        const socket = (up && socketKind[Number(family) as 4 | 6]) || 'none';
        gauge.set({ family: `ipv${family}`, implementation: 'native-kernel-timestamps', socket }, up ? 1 : 0);
      }
    });
    this.registries.counter(AGENT_METRICS.icmpPackets, (counter) => {
      const s = stats();
      counter.reset();
      for (const [event, value] of [
        ['sent', s.sent],
        ['received', s.received],
        ['duplicate', s.duplicates],
        ['late', s.late],
        ['other_address', s.otherAddress],
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

  /**
   * Counts the probe and target series at every scrape; `over` hears when the count first passes
   * the budget (and again after it fell back under it), so a config that grew is said once.
   */
  watchSeries(budget: () => number, over: (count: number, budget: number) => void): void {
    let wasOver = false;
    this.registries.gauge(AGENT_METRICS.series, (gauge) => {
      const count = this.registries.series.seriesCount();
      gauge.set(count);
      const limit = budget();
      if (count > limit && !wasOver) over(count, limit);
      wasOver = count > limit;
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
    this.registries.series.owner(skippedOwner(check)).begin(0).inc(this.skipped, [check, kind, reason], count).end();
  }

  /** The check left the config: its skip counters go (of every kind and reason). */
  forgetCheck(check: string, _kind?: string): void {
    this.registries.series.forget(skippedOwner(check));
  }

  runStarted(): void {
    this.runsInFlight++;
  }

  runEnded(): void {
    this.runsInFlight--;
  }

  schedulerLag(lagMs: number): void {
    this.lag.observe(Math.max(0, lagMs) / 1000);
  }

  /** One series per target; its label names are the union of all targets' own label names. */
  setTargets(targets: readonly TargetSpec[]): void {
    const names = [...new Set(targets.flatMap((t) => Object.keys(t.labels)))].sort();
    const def = { ...AGENT_METRICS.targetInfo, labels: [...AGENT_METRICS.targetInfo.labels, ...names] };
    this.registries.series.family(def); // the same family, its label names redefined
    const update = this.registries.series.owner(TARGETS_OWNER).begin(0);
    for (const target of targets) {
      update.set(this.targetInfo, [target.name, target.group, ...names.map((n) => target.labels[n] ?? '')], 1);
    }
    update.end();
  }
}
