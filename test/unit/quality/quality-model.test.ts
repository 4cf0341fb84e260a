import { describe, expect, it } from 'vitest';
import { agentClass, nextTrend, targetClass } from '../../../src/quality/classify.js';
import type { Estimate } from '../../../src/quality/classify.js';
import { QualityModel, TICK_MS } from '../../../src/quality/quality-model.js';
import type { Observation } from '../../../src/quality/quality-model.js';
import { DEFAULT_QUALITY } from '../../../src/quality/quality-settings.js';
import type { QualitySettings, Thresholds } from '../../../src/quality/quality-settings.js';
import { ObservationWindow } from '../../../src/quality/window.js';
import { SlotPools } from '../../../src/slabs.js';

const MIN = 60_000;
/** decay 0.5 per minute: an observation a minute older weighs half as much. */
const window = (over: Partial<ConstructorParameters<typeof ObservationWindow>[0]> = {}) =>
  new ObservationWindow(
    { maxAgeMs: 5 * MIN, maxSamples: 100, decay: 0.5, periodMs: MIN, minSamples: 1, ...over },
    new SlotPools(),
  );

const figures = (w: ObservationWindow) => ({
  httpRttMs: w.httpRtt(),
  transportRttMs: w.transportRtt(),
  successRate: w.successRate(),
});

describe('ObservationWindow figures', () => {
  it('weighted median: weights 1, 2, 4 (ages 2m, 1m, 0) over values 300, 100, 200', () => {
    const w = window();
    w.add(0, true, 300, 30);
    w.add(MIN, true, 100, 10);
    w.add(2 * MIN, true, 200, 20);
    // Sorted: 100 (w 2), 200 (w 4), 300 (w 1); total 7, half 3.5; running 2, then 6 >= 3.5 -> 200.
    expect(figures(w)).toEqual({ httpRttMs: 200, transportRttMs: 20, successRate: 1 });
  });

  it('weighted median: the first value where the running sum reaches exactly half', () => {
    const w = window();
    w.add(0, true, 200, undefined);
    w.add(0, true, 100, undefined);
    // Equal weights 1 + 1: half is 1, reached at 100.
    expect(figures(w).httpRttMs).toBe(100);
    expect(figures(w).transportRttMs).toBeNull();
  });

  it('a newer slow sample outweighs two older fast ones (Ctrip decay 0.3 per minute)', () => {
    const w = window({ decay: 0.3 });
    w.add(0, true, 100, undefined);
    w.add(0, true, 110, undefined);
    w.add(MIN, true, 900, undefined);
    // Weights 0.3, 0.3, 1 (relative): total 1.6, half 0.8; running 0.3, 0.6, 1.6 -> 900.
    expect(figures(w).httpRttMs).toBe(900);
  });

  it('success rate is sum(w * ok) / sum(w) with fractional ages', () => {
    const w = window();
    w.add(0, true, undefined, undefined);
    w.add(30_000, false, undefined, undefined);
    w.add(MIN, true, undefined, undefined);
    // Weights relative to t=0: 1, 2^0.5, 2. Rate (1 + 2) / (1 + 1.41421356 + 2) = 0.679623...
    expect(figures(w).successRate).toBeCloseTo(3 / (3 + Math.SQRT2), 12);
  });

  it('success rate is exactly 0 when all failed and exactly 1 when all succeeded', () => {
    const failed = window();
    for (let i = 0; i < 5; i++) failed.add(i * 7_000, false, undefined, undefined);
    expect(figures(failed).successRate).toBe(0);
    const ok = window();
    for (let i = 0; i < 5; i++) ok.add(i * 7_000, true, undefined, undefined);
    expect(figures(ok).successRate).toBe(1);
  });

  it('fewer than min_samples observations of a figure: no value', () => {
    const w = window({ minSamples: 3 });
    w.add(0, true, 100, undefined);
    w.add(1, true, 100, 10);
    w.add(2, true, undefined, 10);
    expect(figures(w)).toEqual({ httpRttMs: null, transportRttMs: null, successRate: 1 });
    w.add(3, false, 50, undefined);
    expect(figures(w).httpRttMs).toBe(100);
  });

  it('evicts the oldest past max_samples', () => {
    const w = window({ maxSamples: 3 });
    w.add(0, false, 900, undefined);
    w.add(1, true, 100, undefined);
    w.add(2, true, 110, undefined);
    w.add(3, true, 120, undefined);
    expect(w.size).toBe(3);
    // The failed 900 ms sample is gone: rate 1, median of 100, 110, 120 (nearly equal weights) is 110.
    expect(figures(w)).toEqual({ httpRttMs: 110, transportRttMs: null, successRate: 1 });
  });

  it('evicts observations max_age old or older', () => {
    const w = window();
    w.add(0, false, 900, undefined);
    w.add(MIN, true, 100, undefined);
    expect(w.expire(5 * MIN - 1)).toBe(false);
    expect(w.expire(5 * MIN)).toBe(true);
    expect(w.size).toBe(1);
    expect(figures(w)).toEqual({ httpRttMs: 100, transportRttMs: null, successRate: 1 });
    expect(w.expire(6 * MIN)).toBe(true);
    expect(figures(w)).toEqual({ httpRttMs: null, transportRttMs: null, successRate: null });
  });

  it('keeps exact figures when stored weights are rebased (8 hours of observations)', () => {
    const w = window({ maxAgeMs: 86_400_000, maxSamples: 10_000 });
    const end = 8 * 60 * MIN;
    for (let t = 0; t < end; t += MIN) w.add(t, true, 100, undefined);
    // At 8 h the 100s weigh 1/2 + 1/4 + ... = 1 (less 2^-480) against the newest's 1 each: the
    // exponent passed 300 on the way (ln 2 * 480), so weights were rebased at least once.
    w.add(end, true, 500, undefined);
    w.add(end, true, 500, undefined);
    // Total 3, half 1.5: the 100s reach 1, the 500s 3.
    expect(figures(w).httpRttMs).toBe(500);
    for (let i = 0; i < 3; i++) w.add(end, true, 100, undefined);
    // Total 6, half 3: the 100s reach 4.
    expect(figures(w).httpRttMs).toBe(100);
  });

  it('agrees with a direct computation over 2,000 random observations (ring growth, eviction by count and age)', () => {
    const w = window({ maxSamples: 37, minSamples: 1 });
    const kept: Array<{ t: number; ok: boolean; http?: number; transport?: number }> = [];
    let seed = 7;
    const random = (): number => (seed = (seed * 16807) % 2147483647) / 2147483647;
    let t = 0;
    for (let i = 0; i < 2_000; i++) {
      t += random() < 0.1 ? 60_000 : random() * 5_000;
      const http = random() < 0.2 ? undefined : Math.round(random() * 20) * 10;
      const transport = random() < 0.5 ? undefined : Math.round(random() * 50);
      const ok = random() < 0.7;
      w.expire(t);
      w.add(t, ok, http, transport);
      kept.push({ t, ok, ...(http !== undefined ? { http } : {}), ...(transport !== undefined ? { transport } : {}) });
      while (kept.length > 37 || (kept[0] && kept[0].t <= t - 5 * MIN)) kept.shift();
      const weight = (x: { t: number }) => 0.5 ** ((t - x.t) / MIN);
      const median = (key: 'http' | 'transport'): number | null => {
        const values = kept
          .map((x, order) => ({ v: x[key], w: weight(x), order }))
          .filter((x): x is { v: number; w: number; order: number } => x.v !== undefined)
          .sort((a, b) => a.v - b.v || a.order - b.order);
        if (values.length === 0) return null;
        const half = values.reduce((sum, x) => sum + x.w, 0) / 2;
        let running = 0;
        for (const x of values) if ((running += x.w) >= half * (1 - 1e-12)) return x.v;
        return null;
      };
      const all = kept.reduce((sum, x) => sum + weight(x), 0);
      const rate = kept.reduce((sum, x) => sum + (x.ok ? weight(x) : 0), 0) / all;
      expect(w.size).toBe(kept.length);
      expect(w.httpRtt()).toBe(median('http'));
      expect(w.transportRtt()).toBe(median('transport'));
      expect(w.successRate()).toBeCloseTo(rate, 9);
    }
  });

  it('grows to what its pace says it will hold in one step, at most max_samples, else by doubling', () => {
    const paced = (maxAgeMs: number, everyMs: number, n: number, maxSamples = 100): number[] => {
      const w = window({ maxAgeMs, maxSamples });
      const slots: number[] = [];
      for (let i = 0; i < n; i++) {
        w.expire(i * everyMs);
        w.add(i * everyMs, true, 10, 1);
        slots.push(w.slots);
      }
      return slots;
    };
    // Every 10 s for 5 minutes: 30 held; 8 slots, then 32 at the 9th observation, never more.
    const tenSeconds = paced(5 * MIN, 10_000, 200);
    expect(tenSeconds.slice(0, 9)).toEqual([8, 8, 8, 8, 8, 8, 8, 8, 32]);
    expect(new Set(tenSeconds.slice(8))).toEqual(new Set([32]));
    // An hour at 10 s would be 362: max_samples caps it.
    expect(paced(60 * MIN, 10_000, 9).at(-1)).toBe(100);
    // All at one time: no pace to go by, so doubling.
    expect(paced(5 * MIN, 0, 17).slice(7)).toEqual([8, ...Array<number>(8).fill(16), 32]);
  });

  it('shared slabs: each window grows as if alone; a freed one is empty and takes observations again', () => {
    const settings = { maxAgeMs: 5 * MIN, maxSamples: 37, decay: 0.5, periodMs: MIN, minSamples: 1 };
    const shared = new SlotPools();
    const [a, b] = [new ObservationWindow(settings, shared), new ObservationWindow(settings, shared)];
    const [aloneA, aloneB] = [window({ maxSamples: 37 }), window({ maxSamples: 37 })];
    const feed = (pairs: Array<[ObservationWindow, ObservationWindow]>, from: number, to: number): void => {
      for (let i = from; i < to; i++)
        for (const [k, pair] of pairs.entries())
          for (const w of pair) w.add(i * 1_000, (i + k) % 3 > 0, 10 + ((i * 7 + k * 13) % 50), (i * 3 + k) % 40);
    };
    // Past 8, 16 and 32 slots: each growth moves a window to a larger slot and gives the old one back.
    feed(
      [
        [a, aloneA],
        [b, aloneB],
      ],
      0,
      45,
    );
    expect(figures(a)).toEqual(figures(aloneA));
    expect(figures(b)).toEqual(figures(aloneB));
    expect(figures(a)).not.toEqual(figures(b));
    b.free();
    expect([b.size, b.httpRtt(), b.successRate()]).toEqual([0, null, null]);
    const c = new ObservationWindow(settings, shared);
    const aloneC = window({ maxSamples: 37 });
    feed(
      [
        [c, aloneC],
        [a, aloneA],
        [b, aloneB],
      ],
      45,
      90,
    );
    for (const [w, alone] of [
      [a, aloneA],
      [c, aloneC],
    ] as const)
      expect(figures(w)).toEqual(figures(alone));
    // b took observations again after it was freed: only those.
    expect(b.size).toBe(37);
  });

  it('clamps an observation older than the newest to the newest time', () => {
    const w = window();
    w.add(MIN, true, 100, undefined);
    w.add(0, false, 300, undefined);
    // Equal weights: rate 1/2, median 100.
    expect(figures(w)).toEqual({ httpRttMs: 100, transportRttMs: null, successRate: 0.5 });
  });
});

describe('nextTrend', () => {
  it.each([
    ['previous rate missing: 0', 0.3, null, 0.5, 0],
    ['new rate missing: 0', 0.3, 0.5, null, 0],
    ['a jump above 1: 0', 0.3, -0.5, 0.6, 0],
    ['a glitch is added whatever its sign', 0.3, 0.8, 0.795, 0.295],
    ['same sign as the running trend: added', 0.1, 0.5, 0.6, 0.2],
    ['same sign, falling: added', -0.1, 0.5, 0.4, -0.2],
    ['sign changes: restarts at the change', 0.3, 0.8, 0.7, -0.1],
    ['from a zero trend: starts at the change', 0, 0.5, 0.7, 0.2],
  ])('%s', (_name, trend, previous, current, expected) => {
    expect(nextTrend(trend, previous, current)).toBeCloseTo(expected, 12);
  });
});

describe('classes', () => {
  const t: Thresholds = { httpRttMs: 1_000, transportRttMs: 400, successRate: 0.9, trend: 0.2 };
  const e = (over: Partial<Estimate>): Estimate => ({
    httpRttMs: null,
    transportRttMs: null,
    successRate: null,
    trend: 0,
    ...over,
  });
  it.each([
    ['nothing has a value', e({}), 'unknown'],
    ['success rate 0', e({ successRate: 0, httpRttMs: 10 }), 'offline'],
    ['http rtt at the threshold', e({ httpRttMs: 1_000 }), 'bad'],
    ['http rtt under it', e({ httpRttMs: 999.9 }), 'good'],
    ['transport rtt at the threshold', e({ transportRttMs: 400 }), 'bad'],
    ['transport rtt under it', e({ transportRttMs: 399.9 }), 'good'],
    ['rate at the threshold, trend at its threshold', e({ successRate: 0.9, trend: 0.2 }), 'bad'],
    ['rate at the threshold, trend rising past it', e({ successRate: 0.9, trend: 0.21 }), 'good'],
    ['rate above the threshold, trend falling', e({ successRate: 0.91, trend: -0.5 }), 'good'],
    ['rate low, falling', e({ successRate: 0.3, trend: -0.1 }), 'bad'],
  ])('target: %s -> %s', (_name, estimate, expected) => {
    expect(targetClass(estimate, t)).toBe(expected);
  });

  it('agent: Offline when none of its targets succeeded, whatever the figures', () => {
    expect(agentClass(e({ successRate: 0.5 }), true, t)).toBe('offline');
    expect(agentClass(e({}), false, t)).toBe('unknown');
    expect(agentClass(e({ successRate: 0.95 }), false, t)).toBe('good');
  });
});

describe('QualityModel', () => {
  const settings = (over: Partial<QualitySettings> = {}): QualitySettings => ({ ...DEFAULT_QUALITY, ...over });
  const obs = (t: number, target: string, ok: boolean, extra: Partial<Observation> = {}): Observation => ({
    t,
    target,
    ok,
    ...extra,
  });

  it('says a class change once, with the figures, after min_samples observations', () => {
    const model = new QualityModel(settings());
    const changes = [];
    for (let i = 0; i < 6; i++)
      changes.push(
        model.observe(obs(i * 10_000, 'api', true, { ip: '192.0.2.1', httpRttMs: 120, transportRttMs: 30 })),
      );
    expect(changes.slice(0, 4)).toEqual([undefined, undefined, undefined, undefined]);
    expect(changes[4]).toEqual({
      t: 40_000,
      target: 'api',
      from: 'unknown',
      to: 'good',
      estimate: { httpRttMs: 120, transportRttMs: 30, successRate: 1, trend: 0 },
    });
    expect(changes[5]).toBeUndefined();
    const view = model.target('api');
    expect(view?.class).toBe('good');
    expect(view?.ips.get('192.0.2.1')?.samples).toBe(6);
  });

  it('drops invalid RTTs (missing, <= 0, above max_rtt) but counts the run', () => {
    const model = new QualityModel(settings({ minSamples: 1, maxRttMs: 5_000 }));
    for (const httpRttMs of [0, -3, 5_001, Number.NaN]) model.observe(obs(0, 'api', false, { httpRttMs }));
    expect(model.target('api')).toMatchObject({ samples: 4, class: 'offline' });
    expect(model.target('api')?.estimate.httpRttMs).toBeNull();
  });

  it('uses per-target thresholds', () => {
    const model = new QualityModel(
      settings({ minSamples: 1, targets: new Map([['satellite', { transportRttMs: 900 }]]) }),
    );
    model.observe(obs(0, 'satellite', true, { transportRttMs: 600 }));
    model.observe(obs(0, 'fiber', true, { transportRttMs: 600 }));
    expect(model.target('satellite')?.class).toBe('good');
    expect(model.target('fiber')?.class).toBe('bad');
  });

  it('the trend makes a recovery Good before the rate passes success_rate', () => {
    const model = new QualityModel(settings({ minSamples: 1 }));
    const classes: string[] = [];
    // Ten minutes, one run every 10 s: 6 failures in 10, then all succeed.
    for (let i = 0; i < 30; i++) model.observe(obs(i * 10_000, 'api', i % 10 >= 6));
    for (let i = 30; i < 40; i++) {
      model.observe(obs(i * 10_000, 'api', true));
      classes.push(model.target('api')?.class ?? '');
    }
    expect(model.target('api')?.estimate.successRate).toBeLessThan(0.9);
    expect(classes.indexOf('good')).toBeGreaterThanOrEqual(0);
    expect(classes.indexOf('good')).toBeLessThan(5);
  });

  it('expire() empties windows with time and says the change back to Unknown', () => {
    const model = new QualityModel(settings({ minSamples: 1 }));
    model.observe(obs(0, 'api', true, { ip: '192.0.2.1' }));
    expect(model.expire(DEFAULT_QUALITY.maxAgeMs)).toEqual([
      {
        t: DEFAULT_QUALITY.maxAgeMs,
        target: 'api',
        from: 'good',
        to: 'unknown',
        estimate: { httpRttMs: null, transportRttMs: null, successRate: null, trend: 0 },
      },
    ]);
    expect(model.target('api')?.ips.size).toBe(0);
  });

  it('tick() sweeps targets that stopped observing a few per call, and all of them within the sweep ticks', () => {
    const model = new QualityModel(settings({ minSamples: 1 }));
    const stale = 1_000;
    for (let i = 0; i < stale; i++) model.observe(obs(0, `t${i}`, true));
    const maxAge = DEFAULT_QUALITY.maxAgeMs;
    // One target keeps observing every 10 ms (100 calls a tick), its windows expiring on their own.
    let expired = 0;
    let most = 0;
    let t = maxAge;
    for (; t < maxAge + 12 * TICK_MS && expired < stale; t += 10) {
      model.observe(obs(t, 'live', true));
      const changes = (model.tick(t) ?? []).filter((c) => c.target !== null && c.target !== 'live');
      expect(changes.every((c) => c.to === 'unknown')).toBe(true);
      expired += changes.length;
      most = Math.max(most, changes.length);
    }
    expect(expired).toBe(stale);
    // A tenth of the targets is due each tick: swept 32 a call, not a hundred at once.
    expect(most).toBeLessThanOrEqual(32);
    expect(t - maxAge).toBeLessThanOrEqual(11 * TICK_MS);
  });

  it('tick() sweeps at once what sparse calls left: all stale targets within the sweep ticks', () => {
    const model = new QualityModel(settings({ minSamples: 1 }));
    for (let i = 0; i < 1_000; i++) model.observe(obs(0, `t${i}`, true));
    let expired = 0;
    // One call a tick: 32 a call could not keep up with a hundred due each tick.
    for (let k = 0; k <= 11; k++) expired += (model.tick(DEFAULT_QUALITY.maxAgeMs + k * TICK_MS) ?? []).length;
    expect(expired).toBeGreaterThanOrEqual(1_000);
  });

  it('agent: the median of its targets, and Offline when none succeeded', () => {
    const model = new QualityModel(settings({ minSamples: 1 }));
    model.observe(obs(0, 'a', true, { httpRttMs: 100 }));
    model.observe(obs(0, 'b', true, { httpRttMs: 2_000 }));
    model.observe(obs(0, 'c', true, { httpRttMs: 300 }));
    expect(model.evaluateAgent(0)).toMatchObject({ target: null, from: 'unknown', to: 'good' });
    expect(model.agent().estimate.httpRttMs).toBe(300);
    expect(model.target('b')?.class).toBe('bad');
    for (const name of ['a', 'b', 'c']) {
      model.expire(DEFAULT_QUALITY.maxAgeMs);
      model.observe(obs(DEFAULT_QUALITY.maxAgeMs, name, false));
    }
    expect(model.evaluateAgent(DEFAULT_QUALITY.maxAgeMs)).toMatchObject({ from: 'good', to: 'offline' });
  });

  it('agent: Offline at once when the latest run of every target found no route, whatever the windows hold', () => {
    const model = new QualityModel(settings({ minSamples: 1 }));
    for (const name of ['a', 'b']) model.observe(obs(0, name, true, { transportRttMs: 20 }));
    expect(model.evaluateAgent(0)).toMatchObject({ to: 'good' });
    model.observe(obs(1_000, 'a', false, { noRoute: true }));
    expect(model.evaluateAgent(1_000)).toBeUndefined();
    model.observe(obs(1_000, 'b', false, { noRoute: true }));
    expect(model.evaluateAgent(1_000)).toMatchObject({ from: 'good', to: 'offline' });
    // Windows still hold the successes: the targets themselves are not Offline.
    expect(model.target('a')?.class).not.toBe('offline');
    // One route back: no longer Offline; Bad while the rates (a 2/3, b 1/2) are low and barely rising.
    model.observe(obs(2_000, 'a', true, { transportRttMs: 20 }));
    expect(model.evaluateAgent(2_000)).toMatchObject({ from: 'offline', to: 'bad' });
  });
});
