import { randomUUID } from 'node:crypto';
import type { AgentIdentity } from '../config/agent-config.js';
import type { QualityClass } from './classify.js';
import type { ClassChange } from './quality-model.js';

/** A target's (or the agent's own network's) class changed; to the log and every event sink. */
export interface QualityChangeEvent {
  event: 'quality_change';
  /** Unique per event (UUID v4). */
  eventId: string;
  /** When the model saw the change, ISO 8601. */
  time: string;
  agent: AgentIdentity;
  /** The target, or null for the agent's own network. */
  target: string | null;
  from: QualityClass;
  to: QualityClass;
  httpRttMs: number | null;
  transportRttMs: number | null;
  successRate: number | null;
  trend: number;
}

export function qualityChangeEvent(agent: AgentIdentity, change: ClassChange): QualityChangeEvent {
  return {
    event: 'quality_change',
    eventId: randomUUID(),
    time: new Date(change.t).toISOString(),
    agent,
    target: change.target,
    from: change.from,
    to: change.to,
    ...change.estimate,
  };
}
