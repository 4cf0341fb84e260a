import type { Sample } from './prometheus-api.js';

/** The recorded series `vantage fleet ranking` reads (deploy/prometheus/vantage-ranking-rules.yaml). */
export const FLEET_SERIES = {
  agents: 'set_region_carrier:vantage_endpoint_agents:count',
  median: 'set_target_region_carrier:vantage_endpoint_score_seconds:median',
} as const;

/** The version clients check before reading a list; a change that breaks readers bumps it. */
export const LIST_SCHEMA = 'vantage.dynamic-server-list/v1';
export const INDEX_SCHEMA = 'vantage.dynamic-server-list-index/v1';

/** One target of a set in a list; `url` or `host` when the command was given the agents' config. */
export interface FleetEndpoint {
  target: string;
  rank: number;
  scoreMs: number;
  url?: string;
  host?: string;
}

/** Where a target is, by name, as the agents' config says. */
export type TargetAddresses = ReadonlyMap<string, { url: string } | { host: string }>;

/** One set in a region x carrier's list: its targets, fastest first. */
export interface FleetSet {
  set: string;
  /** Agents of the pair that ranked the set. */
  agents: number;
  endpoints: FleetEndpoint[];
}

/** The dynamic server list of one region x carrier: what a client on that network fetches. */
export interface FleetList {
  schema: typeof LIST_SCHEMA;
  region: string;
  carrier: string;
  generatedAt: string;
  sets: FleetSet[];
}

/** A set of a pair with fewer agents than the minimum: not ranked, and said so. */
export interface LeftOut {
  region: string;
  carrier: string;
  set: string;
  agents: number;
}

const pairKey = (region: string, carrier: string): string => JSON.stringify([region, carrier]);

/**
 * The lists per region x carrier from the two recorded vectors: a set is ranked for a pair with at
 * least `minAgents` agents, its targets by median score (ties by name, so every run agrees).
 */
export function fleetLists(
  agents: readonly Sample[],
  medians: readonly Sample[],
  minAgents: number,
  now: Date,
  addresses: TargetAddresses = new Map(),
): { lists: FleetList[]; leftOut: LeftOut[] } {
  const label = (s: Sample, name: string): string => s.labels[name] ?? '';
  const counts = new Map<string, number>();
  const leftOut: LeftOut[] = [];
  for (const s of agents) {
    const id = { region: label(s, 'region'), carrier: label(s, 'carrier'), set: label(s, 'set') };
    counts.set(JSON.stringify(id), s.value);
    if (s.value < minAgents) leftOut.push({ ...id, agents: s.value });
  }
  const lists = new Map<string, FleetList>();
  for (const s of medians) {
    const id = { region: label(s, 'region'), carrier: label(s, 'carrier'), set: label(s, 'set') };
    const n = counts.get(JSON.stringify(id)) ?? 0;
    if (n < minAgents || !Number.isFinite(s.value)) continue;
    const key = pairKey(id.region, id.carrier);
    let list = lists.get(key);
    if (!list) {
      list = { schema: LIST_SCHEMA, region: id.region, carrier: id.carrier, generatedAt: now.toISOString(), sets: [] };
      lists.set(key, list);
    }
    let set = list.sets.find((x) => x.set === id.set);
    if (!set) list.sets.push((set = { set: id.set, agents: n, endpoints: [] }));
    const target = label(s, 'target');
    set.endpoints.push({ target, rank: 0, scoreMs: round(s.value * 1000), ...addresses.get(target) });
  }
  const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  for (const list of lists.values()) {
    list.sets.sort((a, b) => byName(a.set, b.set));
    for (const set of list.sets) {
      set.endpoints.sort((a, b) => a.scoreMs - b.scoreMs || byName(a.target, b.target));
      set.endpoints.forEach((e, i) => (e.rank = i + 1));
    }
  }
  return {
    lists: [...lists.values()].sort((a, b) => byName(a.region, b.region) || byName(a.carrier, b.carrier)),
    leftOut: leftOut.sort((a, b) => byName(pairKey(a.region, a.carrier), pairKey(b.region, b.carrier))),
  };
}

/** Microsecond precision is all a score carries. */
function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
