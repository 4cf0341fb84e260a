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
/** Slots a window starts with; they double as needed, up to `maxSamples`. */
const FIRST_CAPACITY = 8;

/**
 * The observations of one target (or one IP) newer than `maxAgeMs`, at most `maxSamples`, with
 * their weighted medians and success rate.
 *
 * A weight is `decay ^ (age / period)`; every weight shrinks by the same factor as time passes, so
 * medians and rates depend only on which observations are in the window, never on `now`. Weights
 * are therefore stored once, relative to a base time, and each RTT's slots are kept sorted by
 * value (on entry and eviction): an evaluation is one pass over at most `maxSamples` entries, with
 * no sorting and no `Math.pow`. Observations live in typed arrays used as a ring, not as objects:
 * 10,000 targets of 100 observations were 160 MB of small objects for the garbage collector.
 */
export class ObservationWindow {
  private cap = 0;
  /** Slot of the oldest observation. */
  private head = 0;
  private count = 0;
  private t = new Float64Array(0);
  /** `exp(growth * (t - base))`: the weight relative to the window's base time. */
  private w = new Float64Array(0);
  /** NaN where the observation has no valid RTT of that kind. */
  private http = new Float64Array(0);
  private transport = new Float64Array(0);
  private ok = new Uint8Array(0);
  /** Slots with an HTTP RTT, ascending by it (`nHttp` of them); the same for transport. */
  private byHttp = new Uint16Array(0);
  private nHttp = 0;
  private byTransport = new Uint16Array(0);
  private nTransport = 0;
  private okCount = 0;
  private base = 0;
  /** ln(1/decay) per ms: weights grow with time at this rate. */
  private readonly growth: number;

  constructor(private readonly settings: WindowSettings) {
    this.growth = -Math.log(settings.decay) / settings.periodMs;
  }

  get size(): number {
    return this.count;
  }

  /** Whether any observation in the window succeeded. */
  get anyOk(): boolean {
    return this.okCount > 0;
  }

  /** Adds a valid observation taken at `t` (not before the newest one: clamped to it). */
  add(t: number, ok: boolean, httpRttMs: number | undefined, transportRttMs: number | undefined): void {
    const newest = this.count > 0 ? (this.t[(this.head + this.count - 1) % this.cap] ?? t) : t;
    const at = t < newest ? newest : t;
    if (this.count === 0) this.base = at;
    else if (this.growth * (at - this.base) > MAX_EXPONENT) this.rebase(at);
    if (this.count === this.settings.maxSamples) this.evictOldest();
    else if (this.count === this.cap) this.grow();
    const slot = (this.head + this.count) % this.cap;
    this.count++;
    this.t[slot] = at;
    this.w[slot] = Math.exp(this.growth * (at - this.base));
    this.ok[slot] = ok ? 1 : 0;
    if (ok) this.okCount++;
    this.http[slot] = httpRttMs ?? Number.NaN;
    this.transport[slot] = transportRttMs ?? Number.NaN;
    if (httpRttMs !== undefined) this.nHttp = insertSlot(this.byHttp, this.nHttp, slot, this.http);
    if (transportRttMs !== undefined)
      this.nTransport = insertSlot(this.byTransport, this.nTransport, slot, this.transport);
  }

  /** Drops observations `maxAgeMs` old or older at `now`; returns whether any went. */
  expire(now: number): boolean {
    const before = this.count;
    while (this.count > 0 && (this.t[this.head] ?? now) <= now - this.settings.maxAgeMs) this.evictOldest();
    return this.count !== before;
  }

  /** The weighted median HTTP RTT; null with fewer than `minSamples` of them. */
  httpRtt(): number | null {
    return this.nHttp >= this.settings.minSamples ? weightedMedian(this.byHttp, this.nHttp, this.http, this.w) : null;
  }

  transportRtt(): number | null {
    return this.nTransport >= this.settings.minSamples
      ? weightedMedian(this.byTransport, this.nTransport, this.transport, this.w)
      : null;
  }

  /**
   * sum(w * ok) / sum(w), null with fewer than `minSamples` observations; exactly 0 or 1 when all
   * failed or all succeeded (Offline is `== 0`).
   */
  successRate(): number | null {
    if (this.count < this.settings.minSamples) return null;
    if (this.okCount === 0) return 0;
    if (this.okCount === this.count) return 1;
    let ok = 0;
    let all = 0;
    for (let i = 0; i < this.count; i++) {
      const slot = (this.head + i) % this.cap;
      const w = this.w[slot] ?? 0;
      all += w;
      if (this.ok[slot] === 1) ok += w;
    }
    return ok / all;
  }

  private evictOldest(): void {
    const slot = this.head;
    if (this.ok[slot] === 1) this.okCount--;
    if (!Number.isNaN(this.http[slot])) this.nHttp = removeSlot(this.byHttp, this.nHttp, slot);
    if (!Number.isNaN(this.transport[slot])) this.nTransport = removeSlot(this.byTransport, this.nTransport, slot);
    this.head = (this.head + 1) % this.cap;
    this.count--;
  }

  /** Doubles the slots (up to `maxSamples`), the oldest observation moving to slot 0. */
  private grow(): void {
    const cap = Math.min(this.settings.maxSamples, Math.max(FIRST_CAPACITY, this.cap * 2));
    const move = (old: Float64Array) => {
      const next = new Float64Array(cap);
      for (let i = 0; i < this.count; i++) next[i] = old[(this.head + i) % this.cap] ?? 0;
      return next;
    };
    [this.t, this.w, this.http, this.transport] = [move(this.t), move(this.w), move(this.http), move(this.transport)];
    const ok = new Uint8Array(cap);
    for (let i = 0; i < this.count; i++) ok[i] = this.ok[(this.head + i) % this.cap] ?? 0;
    this.ok = ok;
    const remap = (old: Uint16Array, n: number) => {
      const next = new Uint16Array(cap);
      for (let i = 0; i < n; i++) next[i] = ((old[i] ?? 0) - this.head + this.cap) % this.cap;
      return next;
    };
    this.byHttp = remap(this.byHttp, this.nHttp);
    this.byTransport = remap(this.byTransport, this.nTransport);
    this.head = 0;
    this.cap = cap;
  }

  private rebase(at: number): void {
    const scale = Math.exp(-this.growth * (at - this.base));
    for (let i = 0; i < this.count; i++) {
      const slot = (this.head + i) % this.cap;
      this.w[slot] = (this.w[slot] ?? 0) * scale;
    }
    this.base = at;
  }
}

/** The first value, ascending, at which the running weight reaches half the total. */
function weightedMedian(sorted: Uint16Array, n: number, values: Float64Array, w: Float64Array): number {
  let total = 0;
  for (let i = 0; i < n; i++) total += w[sorted[i] ?? 0] ?? 0;
  const half = total / 2;
  let running = 0;
  let i = 0;
  // The running sum reaches the total at the last entry at the latest (same additions, same order).
  while (i < n - 1 && (running += w[sorted[i] ?? 0] ?? 0) < half) i++;
  return values[sorted[i] ?? 0] ?? 0;
}

/**
 * Inserts `slot` after its equals (equal values stay in arrival order), moving larger ones up one
 * by one from the end: a new RTT is usually near the others. Returns the new length.
 */
function insertSlot(sorted: Uint16Array, n: number, slot: number, values: Float64Array): number {
  const v = values[slot] ?? 0;
  let i = n;
  while (i > 0 && (values[sorted[i - 1] ?? 0] ?? 0) > v) {
    sorted[i] = sorted[i - 1] ?? 0;
    i--;
  }
  sorted[i] = slot;
  return n + 1;
}

function removeSlot(sorted: Uint16Array, n: number, slot: number): number {
  const i = sorted.subarray(0, n).indexOf(slot);
  if (i < 0) return n;
  sorted.copyWithin(i, i + 1, n);
  return n - 1;
}
