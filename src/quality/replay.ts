import type { QualityClass } from './classify.js';
import { QualityModel } from './quality-model.js';
import type { Observation } from './quality-model.js';
import type { QualitySettings } from './quality-settings.js';

/** What `vantage quality replay --json` prints after each input line. */
export interface ReplayLine {
  t: number;
  target: string;
  class: QualityClass;
  httpRttMs: number | null;
  transportRttMs: number | null;
  successRate: number | null;
  trend: number | null;
  agentClass: QualityClass;
}

/** Feeds observations through a fresh model, paced as the agent paces it; one line out per observation. */
export function* replay(observations: Iterable<Observation>, settings: QualitySettings): Generator<ReplayLine> {
  const model = new QualityModel(settings);
  for (const o of observations) {
    model.observe(o);
    model.tick(o.t);
    const target = model.target(o.target);
    const e = target?.estimate;
    yield {
      t: o.t / 1000,
      target: o.target,
      class: target?.class ?? 'unknown',
      httpRttMs: e?.httpRttMs ?? null,
      transportRttMs: e?.transportRttMs ?? null,
      successRate: e?.successRate ?? null,
      // A trend needs two rates: none before the first.
      trend: e?.successRate === null || e === undefined ? null : e.trend,
      agentClass: model.agent().class,
    };
  }
}
