import type { CheckSpec, TargetSpec } from '../checks/check.js';
import type { Clock } from '../clock.js';
import type { AgentIdentity } from '../config/agent-config.js';
import type { Logger } from '../log.js';
import type { MetricRegistries } from '../metrics/registries.js';
import type { TargetQuality } from '../quality/quality-model.js';
import { TICK_MS } from '../quality/quality-model.js';
import type { EventSink } from '../report/event-sinks.js';
import { fastestList, fastestReply } from './fastest-list.js';
import type { FastestList } from './fastest-list.js';
import { leaderChangeEvent } from './leader-event.js';
import { RankingMetrics } from './ranking-metrics.js';
import type { ServerSet } from './ranking-settings.js';
import { score } from './score.js';
import type { Scored } from './score.js';
import { SetRanker } from './set-ranker.js';

export interface RankingServiceDeps {
  registries: MetricRegistries;
  log: Logger;
  clock: Clock;
  identity: () => AgentIdentity;
  sinks: () => readonly EventSink[];
  /** The network-quality model's read API. */
  quality: { target(name: string): TargetQuality | undefined };
}

interface SetState {
  set: ServerSet;
  key: string;
  ranker: SetRanker;
  order: readonly string[];
  scored: ReadonlyMap<string, Scored>;
  views: ReadonlyMap<string, TargetQuality | undefined>;
  evaluatedAt: number;
}

/**
 * The server sets in the agent: every `TICK_MS` (the quality model's own pace; its figures change no
 * faster) each set's targets are scored from the model, ordered with hysteresis, and written as
 * series; a new leader is logged and sent to the sinks; `/fastest` reads the last evaluation.
 */
export class RankingService {
  private readonly metrics: RankingMetrics;
  private states = new Map<string, SetState>();
  private targets = new Map<string, TargetSpec>();
  private cancelTimer: (() => void) | undefined;

  constructor(private readonly deps: RankingServiceDeps) {
    this.metrics = new RankingMetrics(deps.registries);
  }

  /** Applies a config's sets (a set whose settings did not change keeps its order and its timers), then evaluates. */
  configure(sets: readonly ServerSet[], checks: readonly CheckSpec[]): void {
    this.targets = new Map(checks.map((c) => [c.target.name, c.target]));
    const next = new Map<string, SetState>();
    for (const set of sets) {
      const key = JSON.stringify(set);
      const old = this.states.get(set.name);
      next.set(
        set.name,
        old?.key === key
          ? old
          : { set, key, ranker: new SetRanker(set), order: [], scored: new Map(), views: new Map(), evaluatedAt: 0 },
      );
    }
    for (const name of this.states.keys()) if (!next.has(name)) this.metrics.forget(name);
    this.states = next;
    // A new or changed set has its list at once, not at the next tick.
    this.evaluate();
  }

  /** Evaluates every set now and then every `TICK_MS` until `stop`. */
  start(): void {
    this.stop();
    const loop = (): void => {
      // Re-armed first: a failing evaluation (a sink that throws) must not end the ranking.
      this.cancelTimer = this.deps.clock.setTimer(TICK_MS, loop);
      this.evaluate();
    };
    loop();
  }

  stop(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
  }

  /** Scores and orders every set at the clock's wall time. */
  evaluate(): void {
    const t = this.deps.clock.wallMs();
    for (const state of this.states.values()) {
      const views = new Map(state.set.targets.map((name) => [name, this.deps.quality.target(name)]));
      const scored = new Map(state.set.targets.map((name) => [name, score(name, state.set.mode, views.get(name))]));
      const result = state.ranker.update(t, [...scored.values()]);
      Object.assign(state, { order: result.order, scored, views, evaluatedAt: t });
      this.metrics.set(state.set.name, result.order, scored, result.previousLeader !== undefined);
      if (result.previousLeader !== undefined) this.emit(t, state, result.previousLeader);
    }
  }

  /** The set's list as last evaluated, fastest first; undefined for a set the config does not name. */
  fastest(set: string): FastestList | undefined {
    const state = this.states.get(set);
    if (!state) return undefined;
    return fastestList(this.deps.identity(), state, this.targets);
  }

  /** `GET /fastest?set=NAME`. */
  reply(query: URLSearchParams): ReturnType<typeof fastestReply> {
    return fastestReply(query, (set) => this.fastest(set), [...this.states.keys()]);
  }

  private emit(t: number, state: SetState, previous: string | null): void {
    const to = state.order[0] ?? null;
    const scoreOf = (target: string | null): number | null =>
      target === null ? null : (state.scored.get(target)?.scoreMs ?? null);
    const event = leaderChangeEvent(
      this.deps.identity(),
      t,
      state.set.name,
      { target: previous, scoreMs: scoreOf(previous) },
      { target: to, scoreMs: scoreOf(to) },
    );
    this.deps.log.info(event, `fastest of ${state.set.name}: ${previous ?? 'none'} -> ${to ?? 'none'}`);
    for (const sink of this.deps.sinks()) sink.send(event);
  }
}
