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
  /** Failure code, absent when ok. */
  code?: string;
  /** The kind's phases, ms, in the kind's order; NaN for a phase the run did not reach. */
  phasesMs: readonly number[];
}

/**
 * The last `capacity` samples of one check and IP, in typed arrays (a column per figure) rather
 * than an object per sample: 360 samples of an https check took 23 KiB instead of 80 KiB
 * (bench/history-memory.mjs; the README's Status page section has the figures).
 */
export class SampleRing {
  private readonly t: Float64Array;
  private readonly ok: Uint8Array;
  private readonly ms: Float32Array;
  private readonly lowMs: Float32Array;
  private readonly highMs: Float32Array;
  private readonly loss: Float32Array;
  /** Index into `codes` plus one; 0 when the run passed. */
  private readonly codeIx: Uint8Array;
  private readonly phases: Float32Array;
  private next = 0;
  private count = 0;

  constructor(
    readonly capacity: number,
    /** The phase names each sample carries, in order. */
    readonly phaseNames: readonly string[],
    /** The shared table of failure codes (a bounded list, see errors.ts). */
    private readonly codes: string[],
  ) {
    this.t = new Float64Array(capacity);
    this.ok = new Uint8Array(capacity);
    this.ms = new Float32Array(capacity);
    this.lowMs = new Float32Array(capacity);
    this.highMs = new Float32Array(capacity);
    this.loss = new Float32Array(capacity);
    this.codeIx = new Uint8Array(capacity);
    this.phases = new Float32Array(capacity * phaseNames.length);
  }

  get size(): number {
    return this.count;
  }

  push(s: Sample): void {
    if (this.capacity === 0) return;
    const i = this.next;
    this.t[i] = s.t;
    this.ok[i] = s.ok ? 1 : 0;
    this.ms[i] = s.ms;
    this.lowMs[i] = s.lowMs;
    this.highMs[i] = s.highMs;
    this.loss[i] = s.loss;
    this.codeIx[i] = s.code === undefined ? 0 : this.codeIndex(s.code) + 1;
    const p = this.phaseNames.length;
    for (let k = 0; k < p; k++) this.phases[i * p + k] = s.phasesMs[k] ?? Number.NaN;
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
    const p = this.phaseNames.length;
    const code = this.codeIx[i] ? this.codes[this.codeIx[i]! - 1] : undefined;
    return {
      t: this.t[i]!,
      ok: this.ok[i] === 1,
      ms: this.ms[i]!,
      lowMs: this.lowMs[i]!,
      highMs: this.highMs[i]!,
      loss: this.loss[i]!,
      ...(code === undefined ? {} : { code }),
      phasesMs: Array.from(this.phases.subarray(i * p, i * p + p)),
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
