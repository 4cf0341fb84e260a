import { giveBack, NO_ROOM } from '../slabs.js';
import type { Place, Slab, SlotPools } from '../slabs.js';

/** One result's key figures, as the pages draw them. */
export interface Sample {
  /** Wall-clock start, ms since the epoch. */
  t: number;
  ok: boolean;
  /** The run's figure, ms: the median RTT for echo kinds, the duration for the others; NaN when none. */
  ms: number;
  /** Spread of that figure within the run (lowest and highest RTT), ms; both equal `ms` for single-figure kinds. */
  lowMs: number;
  highMs: number;
  /** Lost / sent (echo kinds), else 0 or 1 for a passed or failed run. */
  loss: number;
  /** Failure code; absent or undefined when ok. */
  code?: string;
  /** The kind's phases, ms, in the kind's order; NaN for a phase the run did not reach. */
  phasesMs: readonly number[];
}

/** Figures per sample besides the phases: ms, lowMs, highMs, loss. */
const FIGURES = 4;

/**
 * The last `capacity` samples of one check and IP, in typed arrays rather than an object per sample
 * (360 samples of an https check took 23 KiB instead of 80 KiB: bench/history-memory.mjs), a slot of
 * a slab shared with the other rings of its size, a row per sample: a ring's own buffer and three
 * views cost some 550 bytes besides its samples, 7 MB at 12,000 checks. `free` gives the slot
 * back; a freed ring holds no samples and takes none.
 */
export class SampleRing implements Place {
  // Its slot, as the pool fills it in (a Place of its own would be an object more per ring).
  buf = NO_ROOM;
  base = 0;
  room = 0;
  slab: Slab | undefined;
  slot = 0;
  /** Where in the slab's doubles the start times are. */
  private readonly tAt: number;
  /** Where in the slab's floats the figures are: per sample ms, lowMs, highMs, loss, then the phases. */
  private readonly figuresAt: number;
  /**
   * Where in the slab's bytes the flags are: per sample ok (0 or 1), then the failure code's index
   * into `codes` plus one (0 when it passed).
   */
  private readonly flagsAt: number;
  private readonly stride: number;
  private next = 0;
  private count = 0;

  constructor(
    readonly capacity: number,
    /** The phase names each sample carries, in order. */
    readonly phaseNames: readonly string[],
    /** The shared table of failure codes (a bounded list, see errors.ts). */
    private readonly codes: string[],
    pools: SlotPools,
  ) {
    this.stride = FIGURES + phaseNames.length;
    if (capacity > 0) pools.of(SampleRing.bytes(capacity, phaseNames.length)).take(this);
    this.tAt = this.base / 8;
    this.figuresAt = (this.base + capacity * 8) / 4;
    this.flagsAt = this.base + capacity * (8 + 4 * this.stride);
  }

  /** The bytes of the samples of a ring of `capacity` with `phases` phases (what `history.max_bytes` counts). */
  static bytes(capacity: number, phases: number): number {
    return capacity * (8 + 4 * (FIGURES + phases) + 2);
  }

  get size(): number {
    return this.slab === undefined ? 0 : this.count;
  }

  /** Gives the ring's slot back: another ring may have it next. */
  free(): void {
    giveBack(this);
  }

  push(s: Sample): void {
    const slab = this.slab;
    if (slab === undefined) return;
    const i = this.next;
    slab.f64[this.tAt + i] = s.t;
    const figures = slab.f32;
    const row = this.figuresAt + i * this.stride;
    figures[row] = s.ms;
    figures[row + 1] = s.lowMs;
    figures[row + 2] = s.highMs;
    figures[row + 3] = s.loss;
    for (let k = 0; k < this.phaseNames.length; k++) figures[row + FIGURES + k] = s.phasesMs[k] ?? Number.NaN;
    const flags = this.buf;
    flags[this.flagsAt + 2 * i] = s.ok ? 1 : 0;
    flags[this.flagsAt + 2 * i + 1] = s.code === undefined ? 0 : this.codeIndex(s.code) + 1;
    this.next = (i + 1) % this.capacity;
    this.count = Math.min(this.count + 1, this.capacity);
  }

  /** The samples, oldest first. */
  samples(): Sample[] {
    const out: Sample[] = [];
    const count = this.size;
    const start = (this.next - count + this.capacity) % this.capacity;
    for (let n = 0; n < count; n++) out.push(this.at((start + n) % this.capacity));
    return out;
  }

  /** The newest sample, if any. */
  last(): Sample | undefined {
    return this.size === 0 ? undefined : this.at((this.next - 1 + this.capacity) % this.capacity);
  }

  /** Sample `i` (the ring holds a slot: size > 0). */
  private at(i: number): Sample {
    const slab = this.slab as Slab;
    const row = this.figuresAt + i * this.stride;
    const figure = (k: number): number => slab.f32[row + k] ?? Number.NaN;
    const codeIx = this.buf[this.flagsAt + 2 * i + 1] ?? 0;
    const code = codeIx > 0 ? this.codes[codeIx - 1] : undefined;
    return {
      t: slab.f64[this.tAt + i] ?? Number.NaN,
      ok: this.buf[this.flagsAt + 2 * i] === 1,
      ms: figure(0),
      lowMs: figure(1),
      highMs: figure(2),
      loss: figure(3),
      ...(code === undefined ? {} : { code }),
      phasesMs: Array.from(slab.f32.subarray(row + FIGURES, row + this.stride)),
    };
  }

  private codeIndex(code: string): number {
    const i = this.codes.indexOf(code);
    if (i >= 0) return i;
    // Failure codes are one bounded list (under 255), so the table never outgrows a byte.
    this.codes.push(code);
    return this.codes.length - 1;
  }
}
