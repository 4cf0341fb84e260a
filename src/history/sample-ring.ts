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
 * (360 samples of an https check took 23 KiB instead of 80 KiB: bench/history-memory.mjs). Three
 * views of one buffer, a row per sample: a typed array and its buffer cost about 200 bytes of their
 * own, which at 12,000 checks and eight columns was 20 MiB.
 */
export class SampleRing {
  /** Wall-clock start per sample. */
  private readonly t: Float64Array;
  /** Per sample: ms, lowMs, highMs, loss, then the phases. */
  private readonly figures: Float32Array;
  /** Per sample: ok (0 or 1), then the failure code's index into `codes` plus one (0 when it passed). */
  private readonly flags: Uint8Array;
  private readonly stride: number;
  private next = 0;
  private count = 0;

  constructor(
    readonly capacity: number,
    /** The phase names each sample carries, in order. */
    readonly phaseNames: readonly string[],
    /** The shared table of failure codes (a bounded list, see errors.ts). */
    private readonly codes: string[],
  ) {
    this.stride = FIGURES + phaseNames.length;
    const buffer = new ArrayBuffer(SampleRing.bytes(capacity, phaseNames.length));
    this.t = new Float64Array(buffer, 0, capacity);
    this.figures = new Float32Array(buffer, capacity * 8, capacity * this.stride);
    this.flags = new Uint8Array(buffer, capacity * (8 + 4 * this.stride), capacity * 2);
  }

  /** The bytes of the samples of a ring of `capacity` with `phases` phases (what `history.max_bytes` counts). */
  static bytes(capacity: number, phases: number): number {
    return capacity * (8 + 4 * (FIGURES + phases) + 2);
  }

  get size(): number {
    return this.count;
  }

  push(s: Sample): void {
    if (this.capacity === 0) return;
    const i = this.next;
    this.t[i] = s.t;
    const row = i * this.stride;
    this.figures[row] = s.ms;
    this.figures[row + 1] = s.lowMs;
    this.figures[row + 2] = s.highMs;
    this.figures[row + 3] = s.loss;
    for (let k = 0; k < this.phaseNames.length; k++) this.figures[row + FIGURES + k] = s.phasesMs[k] ?? Number.NaN;
    this.flags[2 * i] = s.ok ? 1 : 0;
    this.flags[2 * i + 1] = s.code === undefined ? 0 : this.codeIndex(s.code) + 1;
    this.next = (i + 1) % this.capacity;
    this.count = Math.min(this.count + 1, this.capacity);
  }

  /** The samples, oldest first. */
  samples(): Sample[] {
    const out: Sample[] = [];
    const start = (this.next - this.count + this.capacity) % this.capacity;
    for (let n = 0; n < this.count; n++) out.push(this.at((start + n) % this.capacity));
    return out;
  }

  /** The newest sample, if any. */
  last(): Sample | undefined {
    return this.count === 0 ? undefined : this.at((this.next - 1 + this.capacity) % this.capacity);
  }

  private at(i: number): Sample {
    const row = i * this.stride;
    const figure = (k: number): number => this.figures[row + k] ?? Number.NaN;
    const codeIx = this.flags[2 * i + 1] ?? 0;
    const code = codeIx > 0 ? this.codes[codeIx - 1] : undefined;
    return {
      t: this.t[i] ?? Number.NaN,
      ok: this.flags[2 * i] === 1,
      ms: figure(0),
      lowMs: figure(1),
      highMs: figure(2),
      loss: figure(3),
      ...(code === undefined ? {} : { code }),
      phasesMs: Array.from(this.figures.subarray(row + FIGURES, row + this.stride)),
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
