import { giveBack, noPlace } from '../slabs.js';
import type { SlotPools } from '../slabs.js';

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

/** A window's columns of doubles, `cap` each, one after the other: time, weight, HTTP RTT, transport RTT. */
const T = 0;
const W = 1;
const HTTP = 2;
const TRANSPORT = 3;
const DOUBLES = 4;

/**
 * Where the parts of a window of `cap` slots start in its slot, in bytes: its columns of doubles at
 * 0, its two sorted lists (16-bit slot numbers), a byte per slot saying whether the observation
 * succeeded; and the slot's size.
 */
function windowLayout(cap: number): { sorted: number; ok: number; bytes: number } {
  const sorted = cap * DOUBLES * 8;
  const ok = sorted + cap * 2 * 2;
  return { sorted, ok, bytes: ok + cap };
}

const NO_DOUBLES = new Float64Array(0);
const NO_SHORTS = new Uint16Array(0);
const NO_BYTES = new Uint8Array(0);

/**
 * The observations of one target (or one IP) newer than `maxAgeMs`, at most `maxSamples`, with
 * their weighted medians and success rate.
 *
 * A weight is `decay ^ (age / period)`; every weight shrinks by the same factor as time passes, so
 * medians and rates depend only on which observations are in the window, never on `now`. Weights
 * are therefore stored once, relative to a base time, and each RTT's slots are kept sorted by
 * value (on entry and eviction): an evaluation is one pass over at most `maxSamples` entries, with
 * no sorting and no `Math.pow`. Observations live in typed arrays used as a ring, not as objects:
 * 10,000 targets of 100 observations were 160 MB of small objects for the garbage collector. The
 * columns, the two sorted lists and the success bytes are one slot of a slab shared with the
 * windows of its size (slabs.ts), read through the slab's views: a typed array and its buffer cost
 * about 180 bytes of their own, and seven of them per target were 15 MB at 12,000 targets; a
 * buffer per window 5 MB more, and a view each of its rows and lists 2 MB. `free` gives the slot back.
 */
export class ObservationWindow {
  private cap = 0;
  /** Slot of the oldest observation. */
  private head = 0;
  private count = 0;
  /**
   * The slab's doubles; from `doublesAt`, per column `cap` of them: T, W (`exp(growth * (t -
   * base))`, the weight relative to the base time), HTTP and TRANSPORT (NaN where the observation
   * has no valid RTT of that kind).
   */
  private doubles: Float64Array = NO_DOUBLES;
  private doublesAt = 0;
  /**
   * The slab as 16-bit numbers; from `sortedAt`, the slots with an HTTP RTT ascending by it
   * (`nHttp`), at `cap` further those with a transport RTT.
   */
  private shorts: Uint16Array = NO_SHORTS;
  private sortedAt = 0;
  /** The slab's bytes; from `okAt`, 1 per slot whose observation succeeded. */
  private bytes: Uint8Array = NO_BYTES;
  private okAt = 0;
  private nHttp = 0;
  private nTransport = 0;
  private okCount = 0;
  private base = 0;
  /** ln(1/decay) per ms: weights grow with time at this rate. */
  private readonly growth: number;

  /** The window's slot. */
  private readonly place = noPlace();

  constructor(
    private readonly settings: WindowSettings,
    private readonly pools: SlotPools,
  ) {
    this.growth = -Math.log(settings.decay) / settings.periodMs;
  }

  /** Gives the window's room back and empties it (it may take observations again). */
  free(): void {
    giveBack(this.place);
    this.doubles = NO_DOUBLES;
    this.shorts = NO_SHORTS;
    this.bytes = NO_BYTES;
    this.cap = 0;
    this.head = 0;
    this.count = 0;
    this.nHttp = 0;
    this.nTransport = 0;
    this.okCount = 0;
  }

  get size(): number {
    return this.count;
  }

  /** Observations it has room for before it grows. */
  get slots(): number {
    return this.cap;
  }

  /** Whether any observation in the window succeeded. */
  get anyOk(): boolean {
    return this.okCount > 0;
  }

  /** Adds a valid observation taken at `t` (not before the newest one: clamped to it). */
  add(t: number, ok: boolean, httpRttMs: number | undefined, transportRttMs: number | undefined): void {
    const newest = this.count > 0 ? this.at((this.head + this.count - 1) % this.cap, T) : t;
    const at = t < newest ? newest : t;
    if (this.count === 0) this.base = at;
    else if (this.growth * (at - this.base) > MAX_EXPONENT) this.rebase(at);
    if (this.count === this.settings.maxSamples) this.evictOldest();
    else if (this.count === this.cap) this.grow();
    const slot = (this.head + this.count) % this.cap;
    this.count++;
    this.set(slot, T, at);
    this.set(slot, W, Math.exp(this.growth * (at - this.base)));
    this.bytes[this.okAt + slot] = ok ? 1 : 0;
    if (ok) this.okCount++;
    this.set(slot, HTTP, httpRttMs ?? Number.NaN);
    this.set(slot, TRANSPORT, transportRttMs ?? Number.NaN);
    if (httpRttMs !== undefined) this.nHttp = this.insert(0, this.nHttp, slot, HTTP);
    if (transportRttMs !== undefined) this.nTransport = this.insert(this.cap, this.nTransport, slot, TRANSPORT);
  }

  /** Drops observations `maxAgeMs` old or older at `now`; returns whether any went. */
  expire(now: number): boolean {
    const before = this.count;
    while (this.count > 0 && this.at(this.head, T) <= now - this.settings.maxAgeMs) this.evictOldest();
    return this.count !== before;
  }

  /** The weighted median HTTP RTT; null with fewer than `minSamples` of them. */
  httpRtt(): number | null {
    return this.nHttp >= this.settings.minSamples ? this.weightedMedian(0, this.nHttp, HTTP) : null;
  }

  transportRtt(): number | null {
    return this.nTransport >= this.settings.minSamples
      ? this.weightedMedian(this.cap, this.nTransport, TRANSPORT)
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
      const w = this.at(slot, W);
      all += w;
      if (this.succeeded(slot)) ok += w;
    }
    return ok / all;
  }

  private at(slot: number, column: number): number {
    return this.doubles[this.doublesAt + column * this.cap + slot] ?? Number.NaN;
  }

  private set(slot: number, column: number, value: number): void {
    this.doubles[this.doublesAt + column * this.cap + slot] = value;
  }

  private succeeded(slot: number): boolean {
    return this.bytes[this.okAt + slot] === 1;
  }

  /** Entry `i` of the sorted lists (the transport list's first is entry `cap`). */
  private sorted(i: number): number {
    return this.shorts[this.sortedAt + i] ?? 0;
  }

  private evictOldest(): void {
    const slot = this.head;
    if (this.succeeded(slot)) this.okCount--;
    if (!Number.isNaN(this.at(slot, HTTP))) this.nHttp = this.remove(0, this.nHttp, slot);
    if (!Number.isNaN(this.at(slot, TRANSPORT))) this.nTransport = this.remove(this.cap, this.nTransport, slot);
    this.head = (this.head + 1) % this.cap;
    this.count--;
  }

  /**
   * Grows the slots, the oldest observation moving to slot 0: at least doubled, and as many as the
   * observations' pace says the window will hold (`maxAgeMs` over their mean spacing, two more),
   * up to `maxSamples`. By doubling alone a target observed every 10 s grew at its 9th and 17th
   * observations, the second at 160 s: 12,000 targets' windows added 8 MB to the RSS in the third
   * minute, and each growth is a move to another slot.
   */
  private grow(): void {
    const cap = Math.min(this.settings.maxSamples, Math.max(FIRST_CAPACITY, this.cap * 2, this.expectedCount()));
    const old = { ...this.place };
    const [oldDoubles, oldCap, oldAt] = [this.doubles, this.cap, this.doublesAt];
    const [oldShorts, oldSortedAt, oldBytes, oldOkAt] = [this.shorts, this.sortedAt, this.bytes, this.okAt];
    const layout = windowLayout(cap);
    const slab = this.pools.of(layout.bytes).take(this.place);
    const base = this.place.base;
    this.doubles = slab.f64;
    this.doublesAt = base / 8;
    this.shorts = slab.u16;
    this.sortedAt = (base + layout.sorted) / 2;
    this.bytes = slab.buf;
    this.okAt = base + layout.ok;
    for (let i = 0; i < this.count; i++) {
      const from = (this.head + i) % oldCap;
      for (let column = 0; column < DOUBLES; column++)
        this.doubles[this.doublesAt + column * cap + i] = oldDoubles[oldAt + column * oldCap + from] ?? Number.NaN;
      this.bytes[this.okAt + i] = oldBytes[oldOkAt + from] ?? 0;
    }
    const remap = (from: number, to: number, n: number): void => {
      for (let i = 0; i < n; i++)
        this.shorts[this.sortedAt + to + i] = ((oldShorts[oldSortedAt + from + i] ?? 0) - this.head + oldCap) % oldCap;
    };
    remap(0, 0, this.nHttp);
    remap(oldCap, cap, this.nTransport);
    giveBack(old);
    this.head = 0;
    this.cap = cap;
  }

  /** What the window will hold at the pace of what it holds (0 before two observations at different times). */
  private expectedCount(): number {
    if (this.count < 2) return 0;
    const span = this.at((this.head + this.count - 1) % this.cap, T) - this.at(this.head, T);
    return span > 0 ? Math.ceil(this.settings.maxAgeMs / (span / (this.count - 1))) + 2 : 0;
  }

  private rebase(at: number): void {
    const scale = Math.exp(-this.growth * (at - this.base));
    for (let i = 0; i < this.count; i++) {
      const slot = (this.head + i) % this.cap;
      this.set(slot, W, this.at(slot, W) * scale);
    }
    this.base = at;
  }

  /** The first value, ascending, at which the running weight reaches half the total. */
  private weightedMedian(from: number, n: number, column: number): number {
    let total = 0;
    for (let i = 0; i < n; i++) total += this.at(this.sorted(from + i), W);
    const half = total / 2;
    let running = 0;
    let i = 0;
    // The running sum reaches the total at the last entry at the latest (same additions, same order).
    while (i < n - 1 && (running += this.at(this.sorted(from + i), W)) < half) i++;
    return this.at(this.sorted(from + i), column);
  }

  /**
   * Inserts `slot` into the list at `from` after its equals (equal values stay in arrival order),
   * moving larger ones up one by one from the end: a new RTT is usually near the others. Returns
   * the list's new length.
   */
  private insert(from: number, n: number, slot: number, column: number): number {
    const v = this.at(slot, column);
    const shorts = this.shorts;
    const at = this.sortedAt + from;
    let i = n;
    while (i > 0 && this.at(shorts[at + i - 1] ?? 0, column) > v) {
      shorts[at + i] = shorts[at + i - 1] ?? 0;
      i--;
    }
    shorts[at + i] = slot;
    return n + 1;
  }

  private remove(from: number, n: number, slot: number): number {
    const at = this.sortedAt + from;
    const i = this.shorts.subarray(at, at + n).indexOf(slot);
    if (i < 0) return n;
    this.shorts.copyWithin(at + i, at + i + 1, at + n);
    return n - 1;
  }
}
