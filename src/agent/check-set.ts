import type { Check, CheckSpec } from '../checks/check.js';
import type { CheckRegistry } from '../checks/registry.js';
import type { Clock } from '../clock.js';
import type { Steps } from '../config/pace.js';
import type { AgentMetrics } from '../metrics/agent-metrics.js';
import type { ProbeRecorder } from '../metrics/probe-recorder.js';
import type { NetDeps } from '../net/net-deps.js';
import type { QualityService } from '../quality/quality-service.js';
import type { Scheduler } from '../schedule/scheduler.js';
import type { CheckExecutor } from './check-executor.js';
import { createJob, instantiate } from './check-jobs.js';

/** A scheduled check. Replaced as a whole when its schedule-relevant definition changes. */
interface Scheduled {
  /** The current instance: swapped in place when only descriptive fields (group, labels) change. */
  check: Check;
}

/** A reload's plan for one check: its instance, and whether it keeps its job and series. */
interface Prepared extends Scheduled {
  keepsJob: boolean;
}

export interface CheckSetDeps {
  registry: CheckRegistry;
  net: NetDeps;
  clock: Clock;
  scheduler: Scheduler;
  executor: CheckExecutor;
  recorder: ProbeRecorder;
  agentMetrics: AgentMetrics;
  quality: QualityService;
}

/**
 * The checks the agent runs, kept in step with the config: a reload's diff-and-apply. Checks whose
 * schedule-relevant definition did not change keep their job, schedule and series.
 */
export class CheckSet {
  private readonly scheduled = new Map<string, Scheduled>();

  constructor(private readonly deps: CheckSetDeps) {}

  /** The kind of a scheduled check, for the scheduler's skip counter. */
  kindOf(name: string): string | undefined {
    return this.scheduled.get(name)?.check.spec.kind;
  }

  /**
   * Builds every new check instance for `specs` (throwing leaves the running set untouched), with
   * a step every 25 checks (see config/pace.ts), and returns the commit that makes them the
   * scheduled checks.
   */
  *prepare(specs: readonly CheckSpec[], agentId: string): Steps<() => Steps<void>> {
    const { registry, net } = this.deps;
    const next = new Map<string, Prepared>();
    for (const [i, spec] of specs.entries()) {
      if (i % 25 === 24) yield;
      const current = this.scheduled.get(spec.name)?.check;
      // Compared in place, not serialised: JSON of every spec twice per reload was most of the
      // apply cost of a large config (bench/config-reload.mjs).
      const keepsJob = current !== undefined && sameJob(current.spec, spec);
      const unchanged = keepsJob && sameData(current.spec.target, spec.target);
      next.set(spec.name, { keepsJob, check: unchanged ? current : instantiate(spec, registry, net) });
    }
    return () => this.commit(specs, next, agentId);
  }

  /**
   * Makes the prepared checks the scheduled ones, with a step every 200 jobs (replacing 5,000 jobs
   * in one go held the event loop 60-90 ms). Once started it runs to its end (it takes no abort
   * signal); in between, each check is either its old or its new self, never half of each.
   */
  private *commit(specs: readonly CheckSpec[], next: Map<string, Prepared>, agentId: string): Steps<void> {
    const { registry, clock, scheduler, recorder, agentMetrics } = this.deps;
    const kept = new Set<Scheduled>();
    let done = 0;
    for (const [name, entry] of this.scheduled) {
      if (++done % 200 === 0) yield;
      const replacement = next.get(name);
      if (replacement?.keepsJob) {
        entry.check = replacement.check;
        kept.add(entry);
        continue;
      }
      // Forget at once: the cancelled run will not record (see run).
      this.scheduled.delete(name);
      recorder.forget(name);
      agentMetrics.forgetCheck(name, entry.check.spec.kind);
      void scheduler.remove(name);
    }
    const counts = new Map<string, number>();
    for (const [name, { check }] of next) {
      if (++done % 200 === 0) yield;
      counts.set(check.spec.kind, (counts.get(check.spec.kind) ?? 0) + 1);
      const current = this.scheduled.get(name);
      if (current && kept.has(current)) continue;
      const entry: Scheduled = { check };
      this.scheduled.set(name, entry);
      scheduler.add(createJob(check, agentId, clock, (signal) => this.run(entry, signal)));
    }
    agentMetrics.setChecksConfigured(counts, registry.names());
    agentMetrics.setTargets([...new Map(specs.map((c) => [c.target.name, c.target])).values()]);
    this.deps.quality.retain(new Set(specs.map((c) => c.target.name)));
  }

  private async run(entry: Scheduled, signal: AbortSignal): Promise<void> {
    const { executor, recorder, agentMetrics } = this.deps;
    agentMetrics.runStarted();
    try {
      const results = await executor.execute(entry.check, signal);
      // A run cancelled by a reload or shutdown says nothing about the target, and one whose check
      // left the config must not bring its series back.
      const cancelled = results.every((r) => r.error?.code === 'ABORTED');
      if (!cancelled && this.scheduled.get(entry.check.spec.name) === entry) {
        recorder.record(entry.check.spec, results);
        this.deps.quality.record(entry.check.spec, results);
      }
    } finally {
      agentMetrics.runEnded();
    }
  }
}

/** Whether a check's job and series carry over: everything but the target's group and labels is the same. */
function sameJob(a: CheckSpec, b: CheckSpec): boolean {
  return (
    a.kind === b.kind &&
    a.target.name === b.target.name &&
    a.target.host === b.target.host &&
    a.target.url === b.target.url &&
    a.timeoutMs === b.timeoutMs &&
    // Turning histograms off must take their series with them: a new job starts with fresh series.
    (a.histograms ?? false) === (b.histograms ?? false) &&
    sameData(a.schedule, b.schedule) &&
    sameData(a.settings, b.settings)
  );
}

/**
 * Equality of config data (plain objects, arrays, primitives), keys in any order, a key holding
 * undefined the same as an absent one. Anything else is equal only to itself, so an unknown value
 * makes a check new rather than wrongly kept.
 */
function sameData(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => sameData(item, b[i]));
  }
  if (Object.getPrototypeOf(a) !== Object.prototype || Object.getPrototypeOf(b) !== Object.prototype) return false;
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  const keys = (o: Record<string, unknown>) => Object.keys(o).filter((k) => o[k] !== undefined);
  const leftKeys = keys(left);
  if (leftKeys.length !== keys(right).length) return false;
  return leftKeys.every((k) => sameData(left[k], right[k]));
}
