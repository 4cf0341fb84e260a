import { randomUUID } from 'node:crypto';
import type { AgentIdentity } from '../config/agent-config.js';

/** The fastest target of a set changed, from this agent; to the log and every event sink. */
export interface LeaderChangeEvent {
  event: 'leader_change';
  /** Unique per event (UUID v4). */
  eventId: string;
  /** When the ranking made the change, ISO 8601. */
  time: string;
  agent: AgentIdentity;
  set: string;
  /** The previous leader; null when the set had none (start, or every target was unranked). */
  from: string | null;
  /** The new leader; null when no target of the set can be ranked any more. */
  to: string | null;
  fromScoreMs: number | null;
  toScoreMs: number | null;
}

export function leaderChangeEvent(
  agent: AgentIdentity,
  t: number,
  set: string,
  from: { target: string | null; scoreMs: number | null },
  to: { target: string | null; scoreMs: number | null },
): LeaderChangeEvent {
  return {
    event: 'leader_change',
    eventId: randomUUID(),
    time: new Date(t).toISOString(),
    agent,
    set,
    from: from.target,
    to: to.target,
    fromScoreMs: from.scoreMs,
    toScoreMs: to.scoreMs,
  };
}
