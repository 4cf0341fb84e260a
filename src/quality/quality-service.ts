import type { CheckResult, CheckSpec } from '../checks/check.js';
import type { AgentIdentity } from '../config/agent-config.js';
import type { Logger } from '../log.js';
import type { MetricRegistries } from '../metrics/registries.js';
import { FileSink } from '../report/event-sinks.js';
import type { EventSink } from '../report/event-sinks.js';
import { observationOf } from './observation.js';
import { qualityChangeEvent } from './quality-event.js';
import { QualityMetrics } from './quality-metrics.js';
import { QualityModel } from './quality-model.js';
import type { ClassChange, TargetQuality } from './quality-model.js';
import { DEFAULT_QUALITY } from './quality-settings.js';
import type { QualitySettings } from './quality-settings.js';
import { toRecord } from './record-line.js';
import type { Estimate, QualityClass } from './classify.js';

export interface QualityServiceDeps {
  registries: MetricRegistries;
  log: Logger;
  identity: () => AgentIdentity;
  /** Sinks that get every class change besides the log. */
  sinks: () => readonly EventSink[];
}

/**
 * The model in the agent: finished runs in; series, class-change events and the record file out;
 * and the read API (per target class and figures, per IP) for /diagnose, status pages and the
 * fastest-endpoint ranking.
 */
export class QualityService {
  private model: QualityModel;
  private readonly metrics: QualityMetrics;
  private settingsKey = '';
  private recordKey = '';
  private recordSink: FileSink | undefined;

  constructor(private readonly deps: QualityServiceDeps) {
    this.metrics = new QualityMetrics(deps.registries);
    this.model = new QualityModel(DEFAULT_QUALITY);
  }

  /**
   * Applies a config's `quality:` block. New model settings start the windows afresh (figures under
   * the old settings would mislead); the record file is reopened only when it changed.
   */
  configure(settings: QualitySettings): void {
    const { recordFile, ...model } = settings;
    const key = JSON.stringify({ ...model, targets: [...model.targets] });
    if (key !== this.settingsKey) {
      for (const name of this.model.targets()) this.metrics.forget(name);
      this.model = new QualityModel(settings);
      this.settingsKey = key;
    }
    const recordKey = JSON.stringify(recordFile ?? null);
    if (recordKey === this.recordKey) return;
    void this.recordSink?.close();
    this.recordSink = recordFile
      ? new FileSink(recordFile.path, recordFile.maxBytes, recordFile.maxFiles, this.deps.log)
      : undefined;
    this.recordKey = recordKey;
  }

  /** Takes the results of one finished run. */
  record(spec: CheckSpec, results: readonly CheckResult[]): void {
    let last: number | undefined;
    for (const result of results) {
      const o = observationOf(spec.kind, spec.target.name, result);
      if (!o) continue;
      this.recordSink?.send(toRecord(o));
      const change = this.model.observe(o);
      const view = this.model.view(o.target);
      if (view) this.metrics.target(o.target, view.class, view.estimate, change !== undefined);
      if (change) this.emit(change);
      last = o.t;
    }
    if (last === undefined) return;
    const changes = this.model.tick(last);
    if (!changes) return;
    for (const change of changes) {
      if (change.target === null) continue;
      const view = this.model.view(change.target);
      if (view) this.metrics.target(change.target, view.class, view.estimate, true);
      this.emit(change);
    }
    const agent = this.model.agent();
    const agentChange = changes.find((c) => c.target === null);
    this.metrics.agent(agent.class, agent.estimate, agentChange !== undefined);
    if (agentChange) this.emit(agentChange);
  }

  /** Forgets the targets that left the config. */
  retain(targets: ReadonlySet<string>): void {
    for (const name of [...this.model.targets()]) {
      if (targets.has(name)) continue;
      this.model.forget(name);
      this.metrics.forget(name);
    }
  }

  /** A target's class and figures, overall and per IP; undefined before its first observation. */
  target(name: string): TargetQuality | undefined {
    return this.model.target(name);
  }

  /** The agent's own network's class and figures. */
  agent(): { class: QualityClass; estimate: Estimate } {
    return this.model.agent();
  }

  /** Writes what the record file still holds. */
  async close(): Promise<void> {
    await this.recordSink?.close();
  }

  private emit(change: ClassChange): void {
    const event = qualityChangeEvent(this.deps.identity(), change);
    const what = change.target ?? "the agent's own network";
    this.deps.log.info(event, `network quality of ${what}: ${change.from} -> ${change.to}`);
    for (const sink of this.deps.sinks()) sink.send(event);
  }
}
