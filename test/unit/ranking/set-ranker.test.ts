import { describe, expect, it } from 'vitest';
import { SetRanker } from '../../../src/ranking/set-ranker.js';
import type { Scored } from '../../../src/ranking/score.js';

/** Scores by target; null: unranked (Unknown or Offline). */
const at = (scores: Record<string, number | null>): Scored[] =>
  Object.entries(scores).map(([target, scoreMs]) => ({
    target,
    scoreMs,
    successRatio: scoreMs === null ? null : 1,
    class: scoreMs === null ? 'offline' : 'good',
  }));

/** margin 10 %, hold 60 s: a challenger must score at most 0.9 x the other's for 60 s. */
const ranker = (): SetRanker => new SetRanker({ margin: 0.1, holdMs: 60_000 });

describe('SetRanker', () => {
  it('an empty order takes the targets by score: rank 1 is the lowest', () => {
    const r = ranker();
    expect(r.update(0, at({ a: 60, b: 5, c: 20 }))).toEqual({ order: ['b', 'c', 'a'], previousLeader: null });
    expect(r.update(1_000, at({ a: 60, b: 5, c: 20 }))).toEqual({ order: ['b', 'c', 'a'] });
  });

  it('a challenger 10 % faster only for 59 s does not take the lead; one that holds 60 s does', () => {
    const r = ranker();
    r.update(0, at({ a: 100, b: 120 }));
    // b at 90 = 0.9 x 100: exactly the margin, from t = 10 s.
    for (let t = 10_000; t < 70_000; t += 1_000) expect(r.update(t, at({ a: 100, b: 90 })).order).toEqual(['a', 'b']);
    // Back above the margin (91 > 90) at 69 s: the clock starts again.
    expect(r.update(69_500, at({ a: 100, b: 91 })).order).toEqual(['a', 'b']);
    expect(r.update(70_000, at({ a: 100, b: 90 })).order).toEqual(['a', 'b']);
    expect(r.update(129_000, at({ a: 100, b: 90 })).order).toEqual(['a', 'b']);
    expect(r.update(130_000, at({ a: 100, b: 90 }))).toEqual({ order: ['b', 'a'], previousLeader: 'a' });
  });

  it('within the margin the two never swap, either way', () => {
    const r = ranker();
    r.update(0, at({ a: 100, b: 95 }));
    expect(r.update(0, at({ a: 100, b: 95 })).order).toEqual(['b', 'a']);
    // a is now 5 % faster than b for 10 minutes: not 10 %, so b stays first.
    for (let t = 0; t <= 600_000; t += 60_000) expect(r.update(t, at({ a: 95, b: 100 })).order).toEqual(['b', 'a']);
  });

  it('an Offline leader leaves at once and the next one leads without waiting', () => {
    const r = ranker();
    r.update(0, at({ a: 10, b: 20, c: 30 }));
    expect(r.update(1_000, at({ a: null, b: 20, c: 30 }))).toEqual({ order: ['b', 'c'], previousLeader: 'a' });
    // Back with a better score, a joins at the bottom and climbs only after the hold: 10 <= 0.9 x 20.
    expect(r.update(2_000, at({ a: 10, b: 20, c: 30 })).order).toEqual(['b', 'c', 'a']);
    expect(r.update(61_000, at({ a: 10, b: 20, c: 30 })).order).toEqual(['b', 'c', 'a']);
    expect(r.update(62_000, at({ a: 10, b: 20, c: 30 }))).toEqual({ order: ['a', 'b', 'c'], previousLeader: 'b' });
  });

  it('every target unranked: no leader', () => {
    const r = ranker();
    r.update(0, at({ a: 10 }));
    expect(r.update(1_000, at({ a: null }))).toEqual({ order: [], previousLeader: 'a' });
    expect(r.update(2_000, at({ a: null }))).toEqual({ order: [] });
  });

  it('a challenger that beats several goes above the highest it beat, in one step', () => {
    const r = ranker();
    r.update(0, at({ a: 50, b: 60, c: 70 }));
    // c drops to 40: <= 0.9 x 50 and 0.9 x 60 from t = 0 on.
    expect(r.update(0, at({ a: 50, b: 60, c: 40 })).order).toEqual(['a', 'b', 'c']);
    expect(r.update(60_000, at({ a: 50, b: 60, c: 40 })).order).toEqual(['c', 'a', 'b']);
  });

  it('hold 0 and margin 0 is a plain sort at every update', () => {
    const r = new SetRanker({ margin: 0, holdMs: 0 });
    r.update(0, at({ a: 1, b: 2 }));
    expect(r.update(1, at({ a: 3, b: 2 })).order).toEqual(['b', 'a']);
  });
});
