import type { Check, CheckSpec } from '../checks/check.js';
import type { CheckRegistry } from '../checks/registry.js';
import type { Clock } from '../clock.js';
import type { NetDeps } from '../net/net-deps.js';
import { CronTrigger } from '../schedule/cron-trigger.js';
import { IntervalTrigger } from '../schedule/interval-trigger.js';
import { phaseOffsetMs } from '../schedule/offset.js';
import type { Job } from '../schedule/scheduler.js';
import type { Trigger } from '../schedule/trigger.js';

/** Builds the runnable check for a validated spec. */
export function instantiate(spec: CheckSpec, registry: CheckRegistry, net: NetDeps): Check {
  const kind = registry.get(spec.kind);
  if (!kind) throw new Error(`unknown check kind ${spec.kind}; config validation should have refused it`);
  return kind.create(spec, net);
}

function triggerFor(spec: CheckSpec, agentId: string, clock: Clock): Trigger {
  if (spec.schedule.type === 'cron') return new CronTrigger(clock, spec.schedule.expression);
  const { intervalMs } = spec.schedule;
  return new IntervalTrigger(clock, intervalMs, phaseOffsetMs(agentId, spec.name, intervalMs));
}

/** A scheduler job for a check: its trigger, its deadline, and what one run does. */
export function createJob(
  check: Check,
  agentId: string,
  clock: Clock,
  run: (signal: AbortSignal) => Promise<void>,
): Job {
  return {
    name: check.spec.name,
    trigger: triggerFor(check.spec, agentId, clock),
    timeoutMs: check.spec.timeoutMs,
    run,
  };
}
