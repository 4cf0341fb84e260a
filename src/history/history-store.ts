import type { CheckResult, CheckSpec } from '../checks/check.js';
import type { TraceHop } from '../checks/traceroute/trace.js';
import type { HistorySettings } from './history-settings.js';
import { SlotPools } from '../slabs.js';
import { SampleRing } from './sample-ring.js';
import type { Sample } from './sample-ring.js';

/**
 * What the pages show of the last result besides its sample. Not the result itself: holding every
 * check's whole last result (RTT lists, evidence) was about 2 KiB per check and IP.
 */
export type LastResult = Pick<CheckResult, 'ok' | 'durationMs' | 'startedAt' | 'error'>;

/** One IP of one check: its recent samples and the outline of its last result. */
export interface IpHistory {
  /** The probed address; '' for runs that failed before choosing one. */
  ip: string;
  ring: SampleRing;
  last: LastResult;
}

export interface CheckHistory {
  check: string;
  kind: string;
  ips: ReadonlyMap<string, IpHistory>;
}

/** The last path traced to a target, by a traceroute check or a triggered trace. */
export interface TracedPath {
  t: number;
  ip: string;
  check: string;
  reached: boolean;
  hops: readonly TraceHop[];
  routeHash: string;
}

/** Route changes kept per target for the chart's time axis. */
const ROUTE_CHANGES_KEPT = 32;

interface TargetEntry {
  checks: Map<string, CheckHistory & { ips: Map<string, IpHistory> }>;
  trace?: TracedPath;
  /**
   * Each IP's last route hash, to tell a changed route; made with the target's first traced path
   * (a map per target that is never traced was 1.5 MB at 12,000 targets).
   */
  routeHashes?: Map<string, string>;
  /** When a route changed, oldest first; made with the first change. */
  routeChanges?: Array<{ t: number; ip: string }>;
}

const NO_ROUTE_CHANGES: ReadonlyArray<{ t: number; ip: string }> = [];

export interface TargetHistory {
  target: string;
  checks: readonly CheckHistory[];
  trace?: TracedPath;
  routeChanges: ReadonlyArray<{ t: number; ip: string }>;
}

/**
 * What the agent keeps of finished runs for the status pages: per check and IP a bounded ring of
 * key figures plus the last result, and per target the last traced path and when its route changed.
 * Every ring holds `capacity` samples: `history.samples`, or fewer when the configured checks' rings
 * (one IP each) would hold more than `history.max_bytes`. Checks that leave the config are
 * forgotten, and a run that finishes after its check left is not recorded.
 */
export class HistoryStore {
  private readonly targets = new Map<string, TargetEntry>();
  private readonly codes: string[] = [];
  private readonly pools = new SlotPools();
  private settings: HistorySettings;
  private configured: ReadonlySet<string> | undefined;
  /** Bytes of one sample in every configured check's ring (one IP each). */
  private rowBytes = 0;
  /** Samples per ring. */
  private capacity: number;

  constructor(
    settings: HistorySettings,
    /** The phase names of a kind, in order (the registry's). */
    private readonly phasesOf: (kind: string) => readonly string[],
  ) {
    this.settings = settings;
    this.capacity = settings.samples;
  }

  /** Samples each ring keeps now. */
  get samplesPerRing(): number {
    return this.capacity;
  }

  /** Applies `history:`. */
  configure(settings: HistorySettings): void {
    this.settings = settings;
    this.resize();
  }

  /** Keeps only the checks in `specs` (the running config's), and sizes the rings for them. */
  retain(specs: readonly CheckSpec[]): void {
    this.rowBytes = specs.reduce((sum, spec) => sum + SampleRing.bytes(1, this.phasesOf(spec.kind).length), 0);
    this.resize();
    this.configured = new Set(specs.map((s) => s.name));
    const targetNames = new Set(specs.map((s) => s.target.name));
    for (const [name, entry] of this.targets) {
      if (!targetNames.has(name)) {
        for (const check of entry.checks.values()) freeRings(check);
        this.targets.delete(name);
        continue;
      }
      for (const [checkName, check] of entry.checks)
        if (!this.configured.has(checkName)) {
          freeRings(check);
          entry.checks.delete(checkName);
        }
    }
  }

  /** Takes one finished run's results; cancelled ones (ABORTED) say nothing about the target. */
  record(spec: CheckSpec, results: readonly CheckResult[]): void {
    if (this.configured && !this.configured.has(spec.name)) return;
    let entry = this.targets.get(spec.target.name);
    if (!entry) {
      entry = { checks: new Map() };
      this.targets.set(spec.target.name, entry);
    }
    let check = entry.checks.get(spec.name);
    if (!check) {
      check = { check: spec.name, kind: spec.kind, ips: new Map() };
      entry.checks.set(spec.name, check);
    }
    const phases = this.phasesOf(spec.kind);
    for (const result of results) {
      if (result.error?.code === 'ABORTED') continue;
      const ip = result.ip ?? '';
      const t = Date.parse(result.startedAt);
      let slot = check.ips.get(ip);
      if (!slot) {
        const last: LastResult = { ok: false, durationMs: 0, startedAt: '', error: null };
        slot = { ip, ring: new SampleRing(this.capacity, phases, this.codes, this.pools), last };
        check.ips.set(ip, slot);
      }
      setLast(slot.last, result);
      slot.ring.push(sampleOf(result, t, phases));
      const path = tracedPath(spec.name, ip, t, result);
      if (path) notePath(entry, path);
    }
  }

  /** A new ring size starts every ring afresh with the newest samples it can keep. */
  private resize(): void {
    const { samples, maxBytes } = this.settings;
    const capacity = this.rowBytes > 0 ? Math.min(samples, Math.floor(maxBytes / this.rowBytes)) : samples;
    if (capacity === this.capacity) return;
    this.capacity = capacity;
    for (const entry of this.targets.values())
      for (const check of entry.checks.values())
        for (const ip of check.ips.values()) {
          const ring = new SampleRing(capacity, ip.ring.phaseNames, this.codes, this.pools);
          for (const s of ip.ring.samples()) ring.push(s);
          ip.ring.free();
          ip.ring = ring;
        }
  }

  /** A target's history; undefined before its first recorded run. */
  target(name: string): TargetHistory | undefined {
    const entry = this.targets.get(name);
    if (!entry) return undefined;
    return {
      target: name,
      checks: [...entry.checks.values()],
      ...(entry.trace ? { trace: entry.trace } : {}),
      routeChanges: entry.routeChanges ?? NO_ROUTE_CHANGES,
    };
  }
}

/** Gives the rings of a check that leaves the store back to their pools. */
function freeRings(check: CheckHistory): void {
  for (const ip of check.ips.values()) ip.ring.free();
}

/**
 * Written over the IP's last result in place: a new object per run lived until the next run, ten
 * seconds, long enough to be copied by every scavenge in between and then moved to the old generation.
 */
function setLast(last: LastResult, { ok, durationMs, startedAt, error }: CheckResult): void {
  last.ok = ok;
  last.durationMs = durationMs;
  last.startedAt = startedAt;
  last.error = error;
}

/** A result's key figures: an echo kind's RTT median and spread and loss, another's duration. */
export function sampleOf(result: CheckResult, t: number, phases: readonly string[]): Sample {
  const echo = result as CheckResult<{ rttMs: { min: number; median: number; max: number } | null; loss: number }>;
  const phasesMs = phases.map((p) => result.phasesMs[p] ?? Number.NaN);
  const code = result.error?.code;
  if (typeof echo.loss === 'number') {
    const rtt = echo.rttMs ?? null;
    return {
      t,
      ok: result.ok,
      phasesMs,
      code,
      ms: rtt?.median ?? Number.NaN,
      lowMs: rtt?.min ?? Number.NaN,
      highMs: rtt?.max ?? Number.NaN,
      loss: echo.loss,
    };
  }
  const ms = result.durationMs;
  return { t, ok: result.ok, phasesMs, code, ms, lowMs: ms, highMs: ms, loss: result.ok ? 0 : 1 };
}

/** The path a result carries: a traceroute check's own, or the trace a failure triggered. */
function tracedPath(check: string, ip: string, t: number, result: CheckResult): TracedPath | undefined {
  const own = result as CheckResult<{ hops: TraceHop[]; reached: boolean; routeHash: string }>;
  const found =
    own.hops && own.routeHash ? own : result.traceroute && 'hops' in result.traceroute ? result.traceroute : undefined;
  if (!found?.hops || !found.routeHash) return undefined;
  return { t, ip, check, reached: found.reached ?? false, hops: found.hops, routeHash: found.routeHash };
}

function notePath(entry: TargetEntry, path: TracedPath): void {
  entry.trace = path;
  entry.routeHashes ??= new Map();
  const previous = entry.routeHashes.get(path.ip);
  entry.routeHashes.set(path.ip, path.routeHash);
  if (previous === undefined || previous === path.routeHash) return;
  entry.routeChanges ??= [];
  entry.routeChanges.push({ t: path.t, ip: path.ip });
  if (entry.routeChanges.length > ROUTE_CHANGES_KEPT) entry.routeChanges.shift();
}
