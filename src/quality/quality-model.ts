import { SlotPools } from '../slabs.js';
import { agentClass, nextTrend } from './classify.js';
import type { Estimate, QualityClass } from './classify.js';
import { targetThresholds } from './quality-settings.js';
import type { QualitySettings, Thresholds } from './quality-settings.js';
import { kthSmallest } from './select.js';
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
  /** The run failed without leaving the agent: no route, the send refused locally (see observation.ts). */
  noRoute?: boolean;
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
  name: string;
  all: Tracker;
  /**
   * Per-IP windows, from the second IP a target is seen on: a target probed on one IP (most are)
   * has that IP's figures in `all`, which halves the cost of its observations.
   */
  byIp: Map<string, Tracker> | undefined;
  soleIp: string | undefined;
  thresholds: Thresholds;
  /** Whether the latest observation found no route out of the agent. */
  noRoute: boolean;
}

/** A full sweep of the windows (see `tick`) is spread over this many ticks. */
const SWEEP_TICKS = 10;
/** Targets one call of `tick` sweeps at most while the calls keep up with the quota. */
const SWEEP_STEP = 32;

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
  /** Where the windows keep their observations. */
  private readonly pools = new SlotPools();
  private agentEstimate: Estimate = { httpRttMs: null, transportRttMs: null, successRate: null, trend: 0 };
  private agentCls: QualityClass = 'unknown';
  private lastTick: number | undefined;
  private sweep: Iterator<TargetState> | undefined;
  private scratch = new Float64Array(0);
  /** Targets of the current tick's share not swept yet. */
  private sweepQuota = 0;

  constructor(private readonly settings: QualitySettings) {}

  /** Takes one observation; returns the target's class change, if it made one. */
  observe(o: Observation): ClassChange | undefined {
    const state = this.state(o.target);
    const http = this.valid(o.httpRttMs);
    const transport = this.valid(o.transportRttMs);
    if (o.ip !== undefined) this.observeIp(state, o.ip, o, http, transport);
    state.noRoute = o.noRoute === true;
    state.all.window.expire(o.t);
    state.all.window.add(o.t, o.ok, http, transport);
    return change(o.t, o.target, state.all.evaluate(state.thresholds), state.all);
  }

  /**
   * The model's pace for work over all targets (the agent and the replay call it after every
   * observation): at most once per `TICK_MS` of `t` the agent is evaluated and a tenth of the
   * targets (all of them in `SWEEP_TICKS` ticks) is due for a sweep of their windows; that tenth
   * is swept SWEEP_STEP targets per call, so no call holds the event loop for all of it (a tenth of
   * 12,000 targets at once took 2-5 ms each second). A share the calls did not get through before the
   * next tick (observations too sparse) is swept then, at once: the loop is idle at such a pace.
   * Returns the class changes that made; undefined when there are none and the agent was not due.
   */
  tick(t: number): ClassChange[] | undefined {
    // A wall clock stepped back starts the pace again rather than stopping it.
    const due = this.lastTick === undefined || Math.abs(t - this.lastTick) >= TICK_MS;
    const changes = this.expireSlice(t, due ? this.sweepQuota : Math.min(this.sweepQuota, SWEEP_STEP));
    if (!due) return changes.length > 0 ? changes : undefined;
    this.lastTick = t;
    this.sweepQuota = Math.ceil(this.targetStates.size / SWEEP_TICKS);
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
    for (const state of this.targetStates.values()) this.expireOne(state, now, changes);
    return changes;
  }

  /**
   * `expire` for the next `count` targets of the sweep (a target's own observations expire its
   * window, so the sweep is for targets that stopped observing); `count` comes off the quota.
   */
  private expireSlice(now: number, count: number): ClassChange[] {
    const changes: ClassChange[] = [];
    this.sweepQuota -= count;
    while (count-- > 0) {
      this.sweep ??= this.targetStates.values();
      const next = this.sweep.next();
      if (next.done) {
        this.sweep = undefined;
        break;
      }
      this.expireOne(next.value, now, changes);
    }
    return changes;
  }

  private expireOne(state: TargetState, now: number, changes: ClassChange[]): void {
    for (const [ip, tracker] of state.byIp ?? []) {
      if (tracker.window.expire(now)) tracker.evaluate(state.thresholds);
      if (tracker.window.size > 0) continue;
      tracker.window.free();
      state.byIp?.delete(ip);
    }
    if (!state.all.window.expire(now)) return;
    if (state.all.window.size === 0) {
      state.soleIp = undefined;
      state.all.window.free();
    }
    const c = change(now, state.name, state.all.evaluate(state.thresholds), state.all);
    if (c) changes.push(c);
  }

  /**
   * The agent's own network: the median over its targets of each figure (each target one vote, so
   * one broken server does not make the agent's network Bad, and more than half of them do), the
   * trend of that rate, and Offline when none of the targets succeeded in its window, or when the
   * latest run of every target found no route out (a cut uplink says so at once, while the
   * windows would hold their successes for up to `max_age`).
   */
  evaluateAgent(t: number): ClassChange | undefined {
    const size = this.targetStates.size;
    // One buffer kept between ticks: three new arrays a second of 12,000 values each were 288 KB
    // zeroed and dropped every tick.
    if (this.scratch.length < 3 * size) this.scratch = new Float64Array(3 * size);
    const http = this.scratch.subarray(0, size);
    const transport = this.scratch.subarray(size, 2 * size);
    const rates = this.scratch.subarray(2 * size, 3 * size);
    let [nHttp, nTransport, nRates] = [0, 0, 0];
    let anyOk = false;
    let anyObserved = false;
    let allNoRoute = true;
    for (const { all, noRoute } of this.targetStates.values()) {
      const e = all.estimate;
      if (all.window.size > 0) allNoRoute &&= noRoute;
      if (e.httpRttMs !== null) http[nHttp++] = e.httpRttMs;
      if (e.transportRttMs !== null) transport[nTransport++] = e.transportRttMs;
      if (e.successRate !== null) rates[nRates++] = e.successRate;
      anyOk ||= all.window.anyOk;
      anyObserved ||= all.window.size > 0;
    }
    const successRate = median(rates.subarray(0, nRates), 'upper');
    const trend = nextTrend(this.agentEstimate.trend, this.agentEstimate.successRate, successRate);
    this.agentEstimate = {
      httpRttMs: median(http.subarray(0, nHttp), 'lower'),
      transportRttMs: median(transport.subarray(0, nTransport), 'lower'),
      successRate,
      trend,
    };
    const from = this.agentCls;
    const offline = anyObserved && (!anyOk || allNoRoute);
    this.agentCls = agentClass(this.agentEstimate, offline, this.settings.thresholds);
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
      ips: state.byIp
        ? new Map([...state.byIp].map(([ip, tracker]) => [ip, view(tracker)]))
        : new Map(state.soleIp === undefined ? [] : [[state.soleIp, view(state.all)]]),
    };
  }

  /** Names of the targets with observations. */
  targets(): IterableIterator<string> {
    return this.targetStates.keys();
  }

  /** The target left the config: its windows go. */
  forget(name: string): void {
    const state = this.targetStates.get(name);
    if (!state) return;
    state.all.window.free();
    for (const tracker of state.byIp?.values() ?? []) tracker.window.free();
    this.targetStates.delete(name);
  }

  private state(name: string): TargetState {
    let state = this.targetStates.get(name);
    if (!state) {
      state = {
        name,
        all: new Tracker(this.settings, this.pools),
        byIp: undefined,
        soleIp: undefined,
        noRoute: false,
        thresholds: targetThresholds(this.settings, name),
      };
      this.targetStates.set(name, state);
    }
    return state;
  }

  /** Feeds the IP's own window once the target has shown a second IP. */
  private observeIp(
    state: TargetState,
    ip: string,
    o: Observation,
    http: number | undefined,
    transport: number | undefined,
  ): void {
    if (!state.byIp) {
      if (state.soleIp === undefined || state.soleIp === ip) {
        state.soleIp = ip;
        return;
      }
      // The first IP's history is in `all` only: its own window starts now, as the second's.
      state.byIp = new Map();
    }
    let tracker = state.byIp.get(ip);
    if (!tracker) state.byIp.set(ip, (tracker = new Tracker(this.settings, this.pools)));
    tracker.window.expire(o.t);
    tracker.window.add(o.t, o.ok, http, transport);
    tracker.evaluate(state.thresholds);
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
function median(values: Float64Array, better: 'lower' | 'upper'): number | null {
  if (values.length === 0) return null;
  return kthSmallest(values, better === 'lower' ? (values.length - 1) >>> 1 : values.length >>> 1);
}
