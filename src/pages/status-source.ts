import type { AgentConfig } from '../config/agent-config.js';
import type { TargetHistory } from '../history/history-store.js';
import type { TargetQuality } from '../quality/quality-model.js';

/** The config as the agent runs it, and the last file it turned down. */
export interface ConfigState {
  /** Wall time the running config was applied, ms. */
  appliedAt?: number;
  /** The last reload's problems (`file:line:col: message`), empty when it was accepted. */
  rejected: readonly string[];
  /** Wall time of that rejection, ms. */
  rejectedAt?: number;
}

/** A target's place in one server set (the fastest-endpoint ranking). */
export interface TargetRank {
  set: string;
  /** 1 for the fastest. */
  rank: number;
  of: number;
}

/** What the status pages read from the running agent; every part is the agent's own, read-only. */
export interface StatusSource {
  config(): AgentConfig | undefined;
  configState(): ConfigState;
  /** The last egress IP an echo service gave, if any. */
  egressIp(): string | undefined;
  history(target: string): TargetHistory | undefined;
  quality(target: string): TargetQuality | undefined;
  /** Absent while the agent has no ranking; an empty list for a target in no set. */
  rank?(target: string): readonly TargetRank[];
  wallMs(): number;
  version: string;
}
