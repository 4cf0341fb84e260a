import { randomUUID } from 'node:crypto';
import type { CheckResult, CheckSpec, CoreResult } from '../checks/check.js';
import type { AgentIdentity } from '../config/agent-config.js';
import type { Logger } from '../log.js';
import { FAILURE_CODES } from '../errors.js';

/** One failed run of one check for one IP, with everything a support engineer needs to act on it. */
export interface ProblemEvent {
  /** What log pipelines and sinks match on. */
  event: 'problem';
  /** Unique per event (UUID v4): quote it in a ticket to find the exact run. */
  eventId: string;
  /** When the failed run started (the log line's own `time` is when it was written). */
  startedAt: string;
  agent: AgentIdentity;
  check: string;
  kind: string;
  target: string;
  group: string;
  host: string;
  ip: string | null;
  code: string;
  phase: string;
  message: string;
  /** What the code means and what to do about it. */
  hint: string;
  durationMs: number;
  /** The kind's own fields of the result, plus its phase timings. */
  evidence: Record<string, unknown>;
}

const CORE_KEYS = new Set<keyof CoreResult>([
  'check',
  'kind',
  'target',
  'ip',
  'ok',
  'error',
  'startedAt',
  'durationMs',
]);

export function problemEvent(agent: AgentIdentity, spec: CheckSpec, result: CheckResult): ProblemEvent | undefined {
  if (!result.error) return undefined;
  const evidence = Object.fromEntries(Object.entries(result).filter(([k]) => !CORE_KEYS.has(k as keyof CoreResult)));
  return {
    event: 'problem',
    eventId: randomUUID(),
    startedAt: result.startedAt,
    agent,
    check: spec.name,
    kind: spec.kind,
    target: spec.target.name,
    group: spec.target.group,
    host: spec.target.host,
    ip: result.ip ?? null,
    code: result.error.code,
    phase: result.error.phase,
    message: result.error.message,
    hint: FAILURE_CODES[result.error.code],
    durationMs: result.durationMs,
    evidence,
  };
}

/** Logs the event as one JSON line at warn level: `event: "problem"` is what log pipelines match on. */
export function emitProblem(log: Logger, event: ProblemEvent): void {
  log.warn(event, `${event.check} ${event.ip ?? event.host}: ${event.code}: ${event.message}`);
}
