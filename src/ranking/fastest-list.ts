import type { TargetSpec } from '../checks/check.js';
import type { AgentIdentity } from '../config/agent-config.js';
import type { QualityClass } from '../quality/classify.js';
import type { TargetQuality } from '../quality/quality-model.js';
import type { Scored } from './score.js';

/** One endpoint of a `/fastest` answer. */
export interface FastestEndpoint {
  target: string;
  /** The target's URL when it was configured by URL, else its host. */
  url?: string;
  host?: string;
  /** The IPs the agent probed it on, as the quality model's window holds them. */
  addresses: string[];
  scoreMs: number | null;
  successRatio: number | null;
  class: QualityClass;
  /** 1 = fastest; null while unranked (Unknown, Offline, no figures yet). */
  rank: number | null;
}

/** `GET /fastest?set=NAME`: the set from this agent, fastest first, then the unranked targets. */
export interface FastestList {
  set: string;
  agent: string;
  region: string;
  carrier: string;
  network_type: string;
  generatedAt: string;
  endpoints: FastestEndpoint[];
}

interface Evaluated {
  set: { name: string; targets: readonly string[] };
  order: readonly string[];
  scored: ReadonlyMap<string, Scored>;
  views: ReadonlyMap<string, TargetQuality | undefined>;
  evaluatedAt: number;
}

export function fastestList(agent: AgentIdentity, s: Evaluated, targets: ReadonlyMap<string, TargetSpec>): FastestList {
  const unranked = s.set.targets.filter((name) => !s.order.includes(name));
  const endpoint = (name: string, i: number): FastestEndpoint => {
    const spec = targets.get(name);
    const scored = s.scored.get(name);
    return {
      target: name,
      ...(spec?.url !== undefined ? { url: spec.url } : { host: spec?.host ?? '' }),
      addresses: [...(s.views.get(name)?.ips.keys() ?? [])].sort(),
      scoreMs: scored?.scoreMs ?? null,
      successRatio: scored?.successRatio ?? null,
      class: scored?.class ?? 'unknown',
      rank: i < s.order.length ? i + 1 : null,
    };
  };
  return {
    set: s.set.name,
    agent: agent.id,
    region: agent.region,
    carrier: agent.carrier,
    network_type: agent.networkType,
    generatedAt: new Date(s.evaluatedAt).toISOString(),
    endpoints: [...s.order, ...unranked].map(endpoint),
  };
}

/** The reply of `GET /fastest` (the web server's route calls it). */
export function fastestReply(
  query: URLSearchParams,
  list: (set: string) => FastestList | undefined,
  sets: readonly string[],
): { status: number; headers: Record<string, string>; body: string } {
  const json = { 'content-type': 'application/json' };
  const set = query.get('set');
  if (!set) return { status: 400, headers: json, body: `${JSON.stringify({ error: 'set= is required', sets })}\n` };
  const found = list(set);
  if (!found)
    return {
      status: 404,
      headers: json,
      body: `${JSON.stringify({ error: `no server set "${set}"`, sets })}\n`,
    };
  return { status: 200, headers: { ...json, 'cache-control': 'no-store' }, body: `${JSON.stringify(found)}\n` };
}
