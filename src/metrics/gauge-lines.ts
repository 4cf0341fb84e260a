import type { Family } from './family.js';
import { markOffset } from './line-writer.js';
import type { LineWriter } from './line-writer.js';

/** Series found by a scan of an owner's own (gauges of an update, counters); past this many, through a map. */
export const SCAN_LIMIT = 32;

/**
 * The gauges of the update in progress, as their lines, in the order first set: one per store,
 * used by one update at a time (updates run begin ... end without a pause). A gauge lives only as
 * its line in the owner's rendering: an owner kept its gauges' families, label strings and values
 * from update to update (about 1 KB each, 22 MB at 24,000 owners) to render them again when the
 * identity labels changed, which a scrape now writes itself.
 */
export class GaugeLines {
  /** The update these lines are for (an owner): an update that is not the current one was abandoned. */
  owner: object | undefined;
  /** Per gauge, in the order first set: its family, where its line starts and ends in `out`, its mark. */
  private families: Family[] = [];
  private starts = new Uint32Array(64);
  private ends = new Uint32Array(64);
  private marks = new Uint32Array(64);
  private gauges = 0;
  /** Past SCAN_LIMIT gauges: family index and name-and-labels bytes -> gauge. */
  private index: Map<string, number> | undefined;

  /**
   * `out`: where the lines are written, from its start at each update; the owner's rendering is
   * written after them into the same writer, which copies a gauge's line within its own buffer.
   */
  constructor(private readonly out: LineWriter) {}

  /** Gauges set in this update (one per family and labels). */
  get size(): number {
    return this.gauges;
  }

  begin(owner: object): void {
    this.owner = owner;
    this.gauges = 0;
    this.index = undefined;
    this.out.reset();
  }

  /** Sets the gauge of `family` and `labelValues`: a second set in one update replaces the value, not the place. */
  set(family: Family, labelValues: readonly string[], value: number): void {
    const out = this.out;
    const start = out.length;
    family.writeGauge(out, labelValues, value);
    const keyEnd = markOffset(out.lastMark);
    // Past SCAN_LIMIT the gauge is found through the map, by a key made once for the lookup and the entry.
    const key = this.index ? this.keyOf(family, start, keyEnd) : undefined;
    let i = key === undefined ? this.scan(family, start, keyEnd) : (this.index?.get(key) ?? -1);
    const first = i < 0;
    if (first) {
      i = this.gauges++;
      if (i === this.starts.length) this.grow();
      this.families[i] = family;
    }
    this.starts[i] = start;
    this.ends[i] = out.length;
    this.marks[i] = out.lastMark;
    if (!first) return;
    if (key !== undefined) this.index?.set(key, i);
    else if (this.gauges > SCAN_LIMIT) {
      this.index = new Map();
      for (let j = 0; j < this.gauges; j++) this.index.set(this.key(j), j);
    }
  }

  /** Writes the lines of the gauges of the family at `index` again after all written, in the order first set. */
  writeFamily(index: number): void {
    for (let i = 0; i < this.gauges; i++)
      if (this.families[i]?.index === index) this.out.line(this.starts[i] ?? 0, this.ends[i] ?? 0, this.marks[i] ?? 0);
  }

  /** The smallest index of a family with a gauge in this update above `after`; `bound` when none is smaller. */
  nextFamily(after: number, bound: number): number {
    let next = bound;
    for (let i = 0; i < this.gauges; i++) {
      const index = this.families[i]?.index ?? -1;
      if (index > after && index < next) next = index;
    }
    return next;
  }

  /** Drops what the update wrote (a buffer grown by a large owner goes) once it is rendered. */
  end(): void {
    this.owner = undefined;
    this.index = undefined;
    this.out.release();
  }

  /** The gauge whose name and labels are `out`'s bytes [start, keyEnd), set earlier in this update, or -1. */
  private scan(family: Family, start: number, keyEnd: number): number {
    for (let i = 0; i < this.gauges; i++)
      if (this.families[i] === family && this.out.same(this.starts[i] ?? 0, this.keyEnd(i), start, keyEnd)) return i;
    return -1;
  }

  /** Gauge `i`'s map key: its family's index and its name-and-labels bytes. */
  private key(i: number): string {
    return this.keyOf(this.families[i] as Family, this.starts[i] ?? 0, this.keyEnd(i));
  }

  private keyOf(family: Family, start: number, keyEnd: number): string {
    return `${family.index}|${this.out.key(start, keyEnd)}`;
  }

  /** Where gauge `i`'s name and labels end: its identity mark, which follows them. */
  private keyEnd(i: number): number {
    return markOffset(this.marks[i] ?? 0);
  }

  private grow(): void {
    const size = this.starts.length * 2;
    for (const name of ['starts', 'ends', 'marks'] as const) {
      const grown = new Uint32Array(size);
      grown.set(this[name]);
      this[name] = grown;
    }
  }
}
