import type { Check, CheckSpec } from '../checks/check.js';
import type { CheckRegistry } from '../checks/registry.js';
import type { Clock } from '../clock.js';
import type { AgentMetrics } from '../metrics/agent-metrics.js';
import type { ProbeRecorder } from '../metrics/probe-recorder.js';
import type { NetDeps } from '../net/net-deps.js';
import type { Scheduler } from '../schedule/scheduler.js';
import type { CheckExecutor } from './check-executor.js';
import { createJob, instantiate } from './check-jobs.js';

/** A scheduled check. Replaced as a whole when its schedule-relevant definition changes. */
interface Scheduled {
  /** What the schedule and series depend on; a change means a new job and fresh series. */
  fingerprint: string;
  /** The current instance: swapped in place when only descriptive fields (group, labels) change. */
  check: Check;
}

export interface CheckSetDeps {
  registry: CheckRegistry;
  net: NetDeps;
  clock: Clock;
  scheduler: Scheduler;
  executor: CheckExecutor;
  recorder: ProbeRecorder;
  agentMetrics: AgentMetrics;
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
   * Builds every new check instance for `specs` (throwing leaves the running set untouched) and
   * returns the step that makes them the scheduled checks.
   */
  prepare(specs: readonly CheckSpec[], agentId: string): () => void {
    const { registry, net } = this.deps;
    const next = new Map<string, Scheduled>();
    for (const spec of specs) {
      const current = this.scheduled.get(spec.name);
      const fingerprint = scheduleFingerprint(spec);
      const unchanged =
        current?.fingerprint === fingerprint && JSON.stringify(current.check.spec) === JSON.stringify(spec);
      next.set(spec.name, { fingerprint, check: unchanged ? current.check : instantiate(spec, registry, net) });
    }
    return () => this.commit(specs, next, agentId);
  }

  private commit(specs: readonly CheckSpec[], next: Map<string, Scheduled>, agentId: string): void {
    const { registry, clock, scheduler, recorder, agentMetrics } = this.deps;
    for (const [name, entry] of this.scheduled) {
      const replacement = next.get(name);
      if (replacement?.fingerprint === entry.fingerprint) {
        entry.check = replacement.check;
        next.set(name, entry);
        continue;
      }
      // Forget at once: the cancelled run will not record (see run).
      this.scheduled.delete(name);
      recorder.forget(name);
      agentMetrics.forgetCheck(name, entry.check.spec.kind);
      void scheduler.remove(name);
    }
    const counts = new Map<string, number>();
    for (const [name, entry] of next) {
      counts.set(entry.check.spec.kind, (counts.get(entry.check.spec.kind) ?? 0) + 1);
      if (this.scheduled.get(name) === entry) continue;
      this.scheduled.set(name, entry);
      scheduler.add(createJob(entry.check, agentId, clock, (signal) => this.run(entry, signal)));
    }
    agentMetrics.setChecksConfigured(counts, registry.names());
    agentMetrics.setTargets([...new Map(specs.map((c) => [c.target.name, c.target])).values()]);
  }

  private async run(entry: Scheduled, signal: AbortSignal): Promise<void> {
    const { executor, recorder, agentMetrics } = this.deps;
    agentMetrics.inFlight.inc();
    try {
      const results = await executor.execute(entry.check, signal);
      // A run cancelled by a reload or shutdown says nothing about the target, and one whose check
      // left the config must not bring its series back.
      const cancelled = results.every((r) => r.error?.code === 'ABORTED');
      if (!cancelled && this.scheduled.get(entry.check.spec.name) === entry) recorder.record(entry.check.spec, results);
    } finally {
      agentMetrics.inFlight.dec();
    }
  }
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
