import type { Check, CheckResult } from '../checks/check.js';
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
}

/** One run of one check: run it, trace silent IPs, log results, emit a problem event per failed IP. */
export class CheckExecutor {
  /** One child logger per check, made on its first run. */
  private readonly logs = new WeakMap<Check, Logger>();

  constructor(private readonly deps: ExecutorDeps) {}

  async execute(
    check: Check,
    signal: AbortSignal,
    onProgress?: (done: number, total: number) => void,
  ): Promise<CheckResult[]> {
    const { spec } = check;
    let log = this.logs.get(check);
    if (!log)
      this.logs.set(
        check,
        (log = this.deps.log.child({ check: spec.name, kind: spec.kind, target: spec.target.name })),
      );
    const results = await runCheck(check, {
      signal,
      clock: this.deps.clock,
      log,
      ...(onProgress ? { onProgress } : {}),
    });
    const kind = this.deps.registry.get(spec.kind);
    if (kind && this.deps.trigger) await this.deps.trigger.attach(kind, results, signal);
    for (const result of results) {
      // A cancelled run (shutdown, reload) says nothing about the target: no problem event.
      const event = result.error?.code === 'ABORTED' ? undefined : problemEvent(this.deps.identity(), spec, result);
      if (event) {
        emitProblem(this.deps.log, event);
        for (const sink of this.deps.sinks?.() ?? []) sink.send(event);
      } else if (result.ok)
        log.debug({ ip: result.ip, durationMs: result.durationMs, phasesMs: result.phasesMs }, 'check ok');
    }
    return results;
  }
}
