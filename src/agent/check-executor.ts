import type { Check, CheckResult, RunContext } from '../checks/check.js';
import type { CheckRegistry } from '../checks/registry.js';
import type { EventSink } from '../report/event-sinks.js';
import type { TraceTrigger } from './triggered-trace.js';
import { runCheck } from './run-check.js';
import type { Clock } from '../clock.js';
import type { AgentIdentity } from '../config/agent-config.js';
import type { Logger } from '../log.js';
import { emitProblem, problemEvent } from '../report/problem-event.js';

export interface ExecutorDeps {
  clock: Clock;
  log: Logger;
  identity: () => AgentIdentity;
  registry: CheckRegistry;
  /** Traces silent IPs of failed runs; absent: never. */
  trigger?: TraceTrigger;
  /** Sinks that get every problem event besides the log. */
  sinks?: () => readonly EventSink[];
  /** Gets every finished run's results (the status pages' history). */
  finished?: (spec: Check['spec'], results: readonly CheckResult[]) => void;
}

/**
 * One run of one check: run it, trace silent IPs, log results, emit a problem event per failed IP.
 * A run's child logger (check, kind and target bound) is made only when something logs through it:
 * runs rarely log, and one kept per check cost 490 bytes each (6 MB at 12,000 checks).
 */
export class CheckExecutor {
  constructor(private readonly deps: ExecutorDeps) {}

  async execute(
    check: Check,
    signal: AbortSignal,
    onProgress?: (done: number, total: number) => void,
  ): Promise<CheckResult[]> {
    const { spec } = check;
    let child: Logger | undefined;
    const log = (): Logger =>
      (child ??= this.deps.log.child({ check: spec.name, kind: spec.kind, target: spec.target.name }));
    const ctx: RunContext = {
      signal,
      clock: this.deps.clock,
      get log() {
        return log();
      },
      ...(onProgress ? { onProgress } : {}),
    };
    const results = await runCheck(check, ctx);
    const kind = this.deps.registry.get(spec.kind);
    if (kind && this.deps.trigger) await this.deps.trigger.attach(kind, results, signal);
    for (const result of results) {
      // A cancelled run (shutdown, reload) says nothing about the target: no problem event.
      const event = result.error?.code === 'ABORTED' ? undefined : problemEvent(this.deps.identity(), spec, result);
      if (event) {
        emitProblem(this.deps.log, event);
        for (const sink of this.deps.sinks?.() ?? []) sink.send(event);
      } else if (result.ok && this.deps.log.isLevelEnabled('debug'))
        log().debug({ ip: result.ip, durationMs: result.durationMs, phasesMs: result.phasesMs }, 'check ok');
    }
    this.deps.finished?.(spec, results);
    return results;
  }
}
