/** One valid observation as the window keeps it. */
interface Sample {
  /** Wall time, ms. */
  t: number;
  ok: boolean;
  httpRttMs: number | undefined;
  transportRttMs: number | undefined;
  /** `exp(growth * (t - base))`: the weight relative to the window's base time. */
  w: number;
}

/** The window's figures; null where there are fewer than `minSamples` observations of it. */
export interface Figures {
  httpRttMs: number | null;
  transportRttMs: number | null;
  successRate: number | null;
}

export interface WindowSettings {
  maxAgeMs: number;
  maxSamples: number;
  decay: number;
  periodMs: number;
  minSamples: number;
}

/** Rebase stored weights before they pass this exponent (doubles hold up to e^709). */
const MAX_EXPONENT = 300;

/**
 * The observations of one target (or one IP) newer than `maxAgeMs`, at most `maxSamples`, with
 * their weighted medians and success rate.
 *
 * A weight is `decay ^ (age / period)`; every weight shrinks by the same factor as time passes, so
 * medians and rates depend only on which observations are in the window, never on `now`. Weights
 * are therefore stored once, relative to a base time, and each RTT is kept in a list sorted by
 * value (kept sorted on entry and eviction): an evaluation is one pass over at most `maxSamples`
 * entries, with no sorting and no `Math.pow`.
 */
export class ObservationWindow {
  private readonly order: Sample[] = [];
  private readonly byHttp: Sample[] = [];
  private readonly byTransport: Sample[] = [];
  private okCount = 0;
  private base = 0;
  /** ln(1/decay) per ms: weights grow with time at this rate. */
  private readonly growth: number;

  constructor(private readonly settings: WindowSettings) {
    this.growth = -Math.log(settings.decay) / settings.periodMs;
  }

  get size(): number {
    return this.order.length;
  }

  /** Whether any observation in the window succeeded. */
  get anyOk(): boolean {
    return this.okCount > 0;
  }

  /** Adds a valid observation taken at `t` (not before the newest one: clamped to it). */
  add(t: number, ok: boolean, httpRttMs: number | undefined, transportRttMs: number | undefined): void {
    const newest = this.order.at(-1);
    const at = newest && t < newest.t ? newest.t : t;
    if (this.order.length === 0) this.base = at;
    else if (this.growth * (at - this.base) > MAX_EXPONENT) this.rebase(at);
    const sample: Sample = { t: at, ok, httpRttMs, transportRttMs, w: Math.exp(this.growth * (at - this.base)) };
    this.order.push(sample);
    if (ok) this.okCount++;
    if (httpRttMs !== undefined) insertSorted(this.byHttp, sample, 'httpRttMs');
    if (transportRttMs !== undefined) insertSorted(this.byTransport, sample, 'transportRttMs');
    while (this.order.length > this.settings.maxSamples) this.evictOldest();
  }

  /** Drops observations `maxAgeMs` old or older at `now`; returns whether any went. */
  expire(now: number): boolean {
    const before = this.order.length;
    while ((this.order[0]?.t ?? now) <= now - this.settings.maxAgeMs) this.evictOldest();
    return this.order.length !== before;
  }

  /** The weighted median HTTP RTT; null with fewer than `minSamples` of them. */
  httpRtt(): number | null {
    return this.byHttp.length >= this.settings.minSamples ? weightedMedian(this.byHttp, 'httpRttMs') : null;
  }

  transportRtt(): number | null {
    return this.byTransport.length >= this.settings.minSamples
      ? weightedMedian(this.byTransport, 'transportRttMs')
      : null;
  }

  /**
   * sum(w * ok) / sum(w), null with fewer than `minSamples` observations; exactly 0 or 1 when all
   * failed or all succeeded (Offline is `== 0`).
   */
  successRate(): number | null {
    if (this.order.length < this.settings.minSamples) return null;
    if (this.okCount === 0) return 0;
    if (this.okCount === this.order.length) return 1;
    let ok = 0;
    let all = 0;
    for (const s of this.order) {
      all += s.w;
      if (s.ok) ok += s.w;
    }
    return ok / all;
  }

  private evictOldest(): void {
    const oldest = this.order.shift();
    if (!oldest) return;
    if (oldest.ok) this.okCount--;
    if (oldest.httpRttMs !== undefined) removeSample(this.byHttp, oldest);
    if (oldest.transportRttMs !== undefined) removeSample(this.byTransport, oldest);
  }

  private rebase(at: number): void {
    const scale = Math.exp(-this.growth * (at - this.base));
    for (const s of this.order) s.w *= scale;
    this.base = at;
  }
}

type RttKey = 'httpRttMs' | 'transportRttMs';

/** The first value, ascending, at which the running weight reaches half the total. */
function weightedMedian(sorted: readonly Sample[], key: RttKey): number {
  let total = 0;
  for (const s of sorted) total += s.w;
  const half = total / 2;
  let running = 0;
  let i = 0;
  // The running sum reaches the total at the last entry at the latest (same additions, same order).
  while (i < sorted.length - 1 && (running += (sorted[i] as Sample).w) < half) i++;
  return (sorted[i] as Sample)[key] ?? 0;
}

/**
 * Inserted after its equals (equal values stay in arrival order), moving larger ones up one by
 * one from the end: no allocation, and a new RTT is usually near the others.
 */
function insertSorted(sorted: Sample[], sample: Sample, key: RttKey): void {
  const v = sample[key] ?? 0;
  let i = sorted.length;
  sorted.push(sample);
  for (let prev = sorted[i - 1]; i > 0 && prev !== undefined && (prev[key] ?? 0) > v; prev = sorted[i - 1]) {
    sorted[i] = prev;
    i--;
  }
  sorted[i] = sample;
}

function removeSample(sorted: Sample[], sample: Sample): void {
  const i = sorted.indexOf(sample);
  if (i < 0) return;
  sorted.copyWithin(i, i + 1);
  sorted.pop();
}
