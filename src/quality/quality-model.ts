import { agentClass, nextTrend } from './classify.js';
import type { Estimate, QualityClass } from './classify.js';
import { targetThresholds } from './quality-settings.js';
import type { QualitySettings, Thresholds } from './quality-settings.js';
import { Tracker } from './tracker.js';

/** One finished run's outcome for one target (and IP), as the model takes it. */
export interface Observation {
  /** Wall time, ms. */
  t: number;
  target: string;
  ip?: string;
  ok: boolean;
  httpRttMs?: number;
  transportRttMs?: number;
}

/** A class change of a target, or of the agent's own network (`target` null). */
export interface ClassChange {
  t: number;
  target: string | null;
  from: QualityClass;
  to: QualityClass;
  estimate: Estimate;
}

/** What the model says about one target (or IP): its class and figures. */
export interface QualityView {
  class: QualityClass;
  estimate: Estimate;
  /** Observations in the window. */
  samples: number;
}

/** A target's view plus one per IP it was probed on. */
export interface TargetQuality extends QualityView {
  target: string;
  ips: ReadonlyMap<string, QualityView>;
}

/** How often the work over all targets is done at most (see `tick`). */
export const TICK_MS = 1_000;

interface TargetState {
  all: Tracker;
  byIp: Map<string, Tracker>;
  thresholds: Thresholds;
}

/**
 * The network-quality model (issue 15; Chromium's Network Quality Estimator as Ctrip runs it):
 * observations in, per target and per IP weighted medians, success rate, trend and class out, and
 * the agent's own class over all its targets. Pure: time is the observations' and the caller's.
 *
 * A target is evaluated on each of its observations (one pass over its window, see window.ts). The
 * agent's class reads every target, which at 10,000 targets costs too much to do on every
 * observation: it is evaluated by `tick`, at most once a second.
 */
export class QualityModel {
  private readonly targetStates = new Map<string, TargetState>();
  private agentEstimate: Estimate = { httpRttMs: null, transportRttMs: null, successRate: null, trend: 0 };
  private agentCls: QualityClass = 'unknown';
  private lastTick: number | undefined;

  constructor(private readonly settings: QualitySettings) {}

  /** Takes one observation; returns the target's class change, if it made one. */
  observe(o: Observation): ClassChange | undefined {
    const state = this.state(o.target);
    const http = this.valid(o.httpRttMs);
    const transport = this.valid(o.transportRttMs);
    if (o.ip !== undefined) {
      let ip = state.byIp.get(o.ip);
      if (!ip) state.byIp.set(o.ip, (ip = new Tracker(this.settings)));
      ip.window.expire(o.t);
      ip.window.add(o.t, o.ok, http, transport);
      ip.evaluate(state.thresholds);
    }
    state.all.window.expire(o.t);
    state.all.window.add(o.t, o.ok, http, transport);
    return change(o.t, o.target, state.all.evaluate(state.thresholds), state.all);
  }

  /**
   * The model's pace for work over all targets: at most once per `TICK_MS` of `t` (the agent and
   * the replay call it after every observation), every window expires and the agent is evaluated.
   * Returns the class changes that made; undefined when it was not yet due.
   */
  tick(t: number): ClassChange[] | undefined {
    // A wall clock stepped back starts the pace again rather than stopping it.
    if (this.lastTick !== undefined && Math.abs(t - this.lastTick) < TICK_MS) return undefined;
    this.lastTick = t;
    const changes = this.expire(t);
    const agent = this.evaluateAgent(t);
    if (agent) changes.push(agent);
    return changes;
  }

  /**
   * Drops observations `max_age` old at `now` from every target; targets (and IPs) that lost some
   * are evaluated again. Returns the class changes that made (a target whose window emptied is
   * Unknown again).
   */
  expire(now: number): ClassChange[] {
    const changes: ClassChange[] = [];
    for (const [name, state] of this.targetStates) {
      for (const [ip, tracker] of state.byIp) {
        if (tracker.window.expire(now)) tracker.evaluate(state.thresholds);
        if (tracker.window.size === 0) state.byIp.delete(ip);
      }
      if (!state.all.window.expire(now)) continue;
      const c = change(now, name, state.all.evaluate(state.thresholds), state.all);
      if (c) changes.push(c);
    }
    return changes;
  }

  /**
   * The agent's own network: the median over its targets of each figure (each target one vote, so
   * one broken server does not make the agent's network Bad, and more than half of them do), the
   * trend of that rate, and Offline when none of the targets succeeded in its window.
   */
  evaluateAgent(t: number): ClassChange | undefined {
    const http: number[] = [];
    const transport: number[] = [];
    const rates: number[] = [];
    let anyOk = false;
    let anyObserved = false;
    for (const { all } of this.targetStates.values()) {
      const e = all.estimate;
      if (e.httpRttMs !== null) http.push(e.httpRttMs);
      if (e.transportRttMs !== null) transport.push(e.transportRttMs);
      if (e.successRate !== null) rates.push(e.successRate);
      anyOk ||= all.window.anyOk;
      anyObserved ||= all.window.size > 0;
    }
    const successRate = median(rates, 'upper');
    const trend = nextTrend(this.agentEstimate.trend, this.agentEstimate.successRate, successRate);
    this.agentEstimate = {
      httpRttMs: median(http, 'lower'),
      transportRttMs: median(transport, 'lower'),
      successRate,
      trend,
    };
    const from = this.agentCls;
    this.agentCls = agentClass(this.agentEstimate, anyOk, anyObserved, this.settings.thresholds);
    return from === this.agentCls
      ? undefined
      : { t, target: null, from, to: this.agentCls, estimate: this.agentEstimate };
  }

  /** The agent's class and figures as last evaluated. */
  agent(): { class: QualityClass; estimate: Estimate } {
    return { class: this.agentCls, estimate: this.agentEstimate };
  }

  /** One target's class and figures; undefined before its first observation. */
  view(name: string): QualityView | undefined {
    const state = this.targetStates.get(name);
    return state && view(state.all);
  }

  /** One target's class and figures, overall and per IP; undefined before its first observation. */
  target(name: string): TargetQuality | undefined {
    const state = this.targetStates.get(name);
    if (!state) return undefined;
    return {
      target: name,
      ...view(state.all),
      ips: new Map([...state.byIp].map(([ip, tracker]) => [ip, view(tracker)])),
    };
  }

  /** Names of the targets with observations. */
  targets(): IterableIterator<string> {
    return this.targetStates.keys();
  }

  /** The target left the config: its windows go. */
  forget(name: string): void {
    this.targetStates.delete(name);
  }

  private state(name: string): TargetState {
    let state = this.targetStates.get(name);
    if (!state) {
      state = {
        all: new Tracker(this.settings),
        byIp: new Map(),
        thresholds: targetThresholds(this.settings, name),
      };
      this.targetStates.set(name, state);
    }
    return state;
  }

  /** An RTT that may enter the window: present, above 0, at most `max_rtt`. */
  private valid(ms: number | undefined): number | undefined {
    return ms !== undefined && Number.isFinite(ms) && ms > 0 && ms <= this.settings.maxRttMs ? ms : undefined;
  }
}

function change(t: number, target: string, from: QualityClass, tracker: Tracker): ClassChange | undefined {
  return from === tracker.class ? undefined : { t, target, from, to: tracker.class, estimate: tracker.estimate };
}

function view(tracker: Tracker): QualityView {
  return { class: tracker.class, estimate: tracker.estimate, samples: tracker.window.size };
}

/**
 * The middle value; of an even count, the better of the two middles (the lower RTT, the higher
 * rate), so the agent's network is Bad only when more than half of its targets say so.
 */
function median(values: readonly number[], better: 'lower' | 'upper'): number | null {
  if (values.length === 0) return null;
  // A typed array sorts numerically without a comparator call per pair: 10,000 values in a fraction of a ms.
  const sorted = Float64Array.from(values).sort();
  return sorted[better === 'lower' ? (sorted.length - 1) >>> 1 : sorted.length >>> 1] ?? null;
}
