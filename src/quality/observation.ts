import type { CheckResult } from '../checks/check.js';
import type { Observation } from './quality-model.js';

/**
 * Failures that never left the agent: connect found no route (ENETUNREACH, EHOSTUNREACH), or the
 * kernel refused to send an echo (no route, a local firewall). When every target's latest run
 * ends so, the agent's own network is Offline.
 */
const NO_ROUTE = new Set<string>(['TCP_UNREACHABLE', 'ICMP_SEND_FAILED']);

/** The fields that carry RTTs, by kind; a kind not named here gives success only. */
interface RttFields {
  connectMs?: number;
  rttMs?: { median: number } | null;
}

/**
 * What one result says about its target's path: success, the HTTP RTT (https: request written to
 * first byte read) and the transport RTT (tcp connect, icmp median echo RTT, https connect). Only
 * phases that completed count: a failed connect's time is how long it took to fail, not an RTT.
 * Cancelled runs (ABORTED) say nothing about the target: undefined.
 */
export function observationOf(kind: string, target: string, result: CheckResult<RttFields>): Observation | undefined {
  if (result.error?.code === 'ABORTED') return undefined;
  const t = Date.parse(result.startedAt) + result.durationMs;
  // One literal, absent figures left undefined: spreads of optional parts made each observation an
  // object built property by property (a sampling allocation profile of the scale bench).
  const ip = result.ip || undefined;
  const ok = result.ok;
  const noRoute = result.error !== null && NO_ROUTE.has(result.error.code) ? true : undefined;
  let httpRttMs: number | undefined;
  let transportRttMs: number | undefined;
  if (kind === 'https') {
    httpRttMs = result.phasesMs.firstByte;
    transportRttMs = result.phasesMs.connect;
  } else if (kind === 'tcp') transportRttMs = result.connectMs;
  else if (kind === 'icmp') transportRttMs = result.rttMs?.median;
  return { t, target, ip, ok, noRoute, httpRttMs, transportRttMs };
}
