import type { MetricDef } from './catalogue.js';
import { labelPairs, pairsMatch } from './exposition-format.js';
import type { Family } from './family.js';
import { Series } from './family.js';
import type { LineWriter } from './line-writer.js';

type MetricType = MetricDef['type'];

/**
 * Whether a counter or histogram series stays when its owner's update ends: `seen` in this update,
 * last written at `lastMs`. The default keeps them all (they go with `SeriesStore.forget`). Gauges
 * are not asked: a gauge describes the update that set it, so one the latest update did not set is gone.
 */
export type KeepSeries = (type: MetricType, seen: boolean, lastMs: number) => boolean;

/**
 * An owner's sample lines as bytes, family after family. `spans` lists only the families it has
 * lines in, as pairs (family index, end in `buf`) in family order; a family's lines start where
 * the pair before ends (the first at 0). A dense table of every family was a typed array per
 * owner, 61 offsets mostly equal: 470 bytes with its buffer, 11 MB at 24,000 owners.
 */
export interface Rendered {
  generation: number;
  buf: Buffer;
  spans: number[];
  /** The series rendered (as `OwnerSeries.size` counts them). */
  size: number;
}

/**
 * The series of one owner (a check, the target list): written in updates (`begin` ... `end`),
 * rendered to sample lines once per update, by the store, when the update ends.
 */
export class OwnerSeries {
  /**
   * The store's rendering of these series (a field, not a WeakMap entry: ten thousand ephemerons
   * made single steps of V8's incremental marking take tens of milliseconds).
   */
  rendered: Rendered | undefined;
  /**
   * Counters and histograms, which add up across updates, in the order first written. Found by a
   * scan that compares labels without rendering them (pairsMatch) while there are few, through
   * `accumulatingIndex` past SCAN_LIMIT.
   */
  private readonly accumulating: Series[] = [];
  /** seriesKey -> series, made when the owner passes SCAN_LIMIT and kept from then on. */
  private accumulatingIndex: Map<string, Series> | undefined;
  /**
   * The latest update's gauges, in the order written, as three parallel arrays reused from update to
   * update: a gauge object and its map entry per series cost a check of 13 series about 3 KB of heap,
   * and gauges need no lookup across updates (kept only to render again when the identity changes).
   */
  private readonly gaugeFamilies: Family[] = [];
  private readonly gaugeLabels: string[] = [];
  private readonly gaugeValues: number[] = [];
  private gauges = 0;
  /**
   * During an update of more than SCAN_LIMIT gauges: seriesKey -> index of a
   * gauge set in it. Smaller updates (a check's, about 10 gauges) find one by a scan instead: a
   * map per owner kept across updates cost 1.5 KB each (36 MB at 24,000 owners), and one cleared
   * per update made a new table that lived until the next update, long enough to be moved to the
   * old generation every time.
   */
  private gaugeIndex: Map<string, number> | undefined;
  private run = 0;
  private nowMs = 0;

  constructor(private readonly render: (owner: OwnerSeries) => void) {}

  /** Series as Prometheus counts them: a histogram is a series per bucket (and +Inf), plus sum and count. */
  get size(): number {
    let count = this.gauges;
    for (const series of this.accumulating) count += series.buckets === undefined ? 1 : series.buckets.length + 3;
    return count;
  }

  /** Starts an update at `nowMs` (what `KeepSeries` compares `lastMs` with); its gauges replace the last update's. */
  begin(nowMs: number): this {
    this.run++;
    this.nowMs = nowMs;
    this.gauges = 0;
    this.gaugeIndex = undefined;
    return this;
  }

  /**
   * Sets a gauge. `labelValues` holds one value per label name of the family, in order; it is read,
   * not kept (a caller may fill the same array again for its next series).
   */
  set(family: Family, labelValues: readonly string[], value: number): this {
    checkSample(family, 'gauge', labelValues);
    // A map lookup needs the labels rendered: then they are rendered once, for the lookup and the gauge.
    const rendered = this.gaugeIndex ? labelPairs(family.def.labels, labelValues) : undefined;
    let i = this.gaugeAt(family, labelValues, rendered);
    if (i < 0) {
      i = this.gauges++;
      this.gaugeFamilies[i] = family;
      this.gaugeLabels[i] = rendered ?? this.gaugeLabelsFor(i, family.def.labels, labelValues);
      if (this.gaugeIndex) this.gaugeIndex.set(seriesKey(this.gaugeLabels[i] ?? '', family), i);
      else if (this.gauges > SCAN_LIMIT) {
        this.gaugeIndex = new Map();
        for (let j = 0; j < this.gauges; j++)
          this.gaugeIndex.set(seriesKey(this.gaugeLabels[j] ?? '', this.gaugeFamilies[j] as Family), j);
      }
    }
    this.gaugeValues[i] = value;
    return this;
  }

  /** Increases a counter; a negative or non-finite amount is ignored (a counter never goes down). */
  inc(family: Family, labelValues: readonly string[], amount = 1): this {
    checkSample(family, 'counter', labelValues);
    if (Number.isFinite(amount) && amount >= 0) this.touch(family, labelValues).value += amount;
    return this;
  }

  /** Adds an observation to a histogram (`le` is inclusive, as prom-client's); non-finite is ignored. */
  observe(family: Family, labelValues: readonly string[], value: number): this {
    checkSample(family, 'histogram', labelValues);
    if (!Number.isFinite(value)) return this;
    const series = this.touch(family, labelValues);
    const bounds = family.def.buckets ?? [];
    const i = bounds.findIndex((bound) => value <= bound);
    if (i >= 0 && series.buckets) series.buckets[i] = (series.buckets[i] ?? 0) + 1;
    series.sum += value;
    series.count += 1;
    return this;
  }

  /** A gauge is set, a counter increased, a histogram observes: whatever the family's type means. */
  sample(family: Family, labelValues: readonly string[], value: number): this {
    const type = family.def.type;
    return type === 'gauge'
      ? this.set(family, labelValues, value)
      : type === 'counter'
        ? this.inc(family, labelValues, value)
        : this.observe(family, labelValues, value);
  }

  /** Ends the update: drops the counters and histograms `keep` refuses, then has the store render the rest. */
  end(keep: KeepSeries = () => true): void {
    const list = this.accumulating;
    let kept = 0;
    let i = 0;
    try {
      for (; i < list.length; i++) {
        const one = list[i] as Series;
        if (keep(one.family.def.type, one.run === this.run, one.lastMs)) list[kept++] = one;
        else this.accumulatingIndex?.delete(seriesKey(one.labels, one.family));
      }
    } finally {
      // A `keep` that threw keeps what it was not asked about, each series once.
      while (i < list.length) list[kept++] = list[i++] as Series;
      list.length = kept;
    }
    for (const gaugeArray of [this.gaugeFamilies, this.gaugeLabels, this.gaugeValues]) gaugeArray.length = this.gauges;
    this.gaugeIndex = undefined;
    this.render(this);
  }

  /** Whether this owner has a series in the family. */
  has(family: Family): boolean {
    return this.gaugeFamilies.includes(family) || this.accumulating.some((one) => one.family === family);
  }

  /**
   * Writes this owner's sample lines, family by family in index order (within a family, gauges in
   * the order set, then counters or histograms in the order first written), and after each family
   * its index and the end of its lines in `out` into `spans`.
   */
  write(out: LineWriter, spans: number[]): void {
    // The families in order without sorting anything: an owner has series in a dozen at most.
    for (let index = this.nextFamily(-1); index >= 0; index = this.nextFamily(index)) {
      for (let i = 0; i < this.gauges; i++) {
        const family = this.gaugeFamilies[i];
        if (family?.index === index) family.writeSample(out, this.gaugeLabels[i] ?? '', this.gaugeValues[i] ?? 0);
      }
      for (const one of this.accumulating) if (one.family.index === index) one.family.writeLines(out, one);
      spans.push(index, out.length);
    }
  }

  /** The smallest index of a family this owner has series in above `after`; -1 when none is. */
  private nextFamily(after: number): number {
    let next = Infinity;
    for (let i = 0; i < this.gauges; i++) {
      const index = this.gaugeFamilies[i]?.index ?? -1;
      if (index > after && index < next) next = index;
    }
    for (const one of this.accumulating) {
      const index = one.family.index;
      if (index > after && index < next) next = index;
    }
    return next === Infinity ? -1 : next;
  }

  /**
   * The rendered labels of gauge `i`: the string this slot held in the last update, or the previous
   * gauge's in this one, when it says the same (no new string: a run sets the same gauges with the
   * same labels as the run before, and several gauges of one IP share their labels, one string).
   */
  private gaugeLabelsFor(i: number, names: readonly string[], values: readonly string[]): string {
    const last = this.gaugeLabels[i];
    if (last !== undefined && pairsMatch(last, names, values)) return last;
    const previous = i > 0 ? this.gaugeLabels[i - 1] : undefined;
    if (previous !== undefined && pairsMatch(previous, names, values)) return previous;
    return labelPairs(names, values);
  }

  /** Index of the gauge of `family` and `labelValues` (`rendered` while the map is in use) in this update, or -1. */
  private gaugeAt(family: Family, labelValues: readonly string[], rendered: string | undefined): number {
    const names = family.def.labels;
    if (this.gaugeIndex)
      return this.gaugeIndex.get(seriesKey(rendered ?? labelPairs(names, labelValues), family)) ?? -1;
    for (let i = 0; i < this.gauges; i++)
      if (this.gaugeFamilies[i] === family && pairsMatch(this.gaugeLabels[i] ?? '', names, labelValues)) return i;
    return -1;
  }

  /** The counter or histogram series of `family` and `labelValues`, created on first use, marked as written now. */
  private touch(family: Family, labelValues: readonly string[]): Series {
    const names = family.def.labels;
    const rendered = this.accumulatingIndex ? labelPairs(names, labelValues) : undefined;
    let one: Series | undefined;
    if (this.accumulatingIndex) one = this.accumulatingIndex.get(seriesKey(rendered ?? '', family));
    else
      for (const s of this.accumulating)
        if (s.family === family && pairsMatch(s.labels, names, labelValues)) {
          one = s;
          break;
        }
    if (!one) {
      const buckets = family.def.type === 'histogram' ? new Float64Array(family.def.buckets?.length ?? 0) : undefined;
      one = new Series(family, rendered ?? labelPairs(names, labelValues), buckets);
      this.accumulating.push(one);
      if (this.accumulatingIndex) this.accumulatingIndex.set(seriesKey(one.labels, family), one);
      else if (this.accumulating.length > SCAN_LIMIT)
        this.accumulatingIndex = new Map(this.accumulating.map((s) => [seriesKey(s.labels, s.family), s]));
    }
    one.run = this.run;
    one.lastMs = this.nowMs;
    return one;
  }
}

/** A series' key in an owner's maps: its own labels, rendered, and its family. */
function seriesKey(labels: string, family: Family): string {
  return `${labels}|${family.index}`;
}

/** Series an owner finds by scanning its own; past this many, through a map. */
const SCAN_LIMIT = 32;

/** Refuses a sample whose family is not of `type` or does not take that many label values (a bug). */
function checkSample(family: Family, type: MetricType, labelValues: readonly string[]): void {
  const def = family.def;
  if (def.type !== type) throw new TypeError(`${def.name} is a ${def.type}, not a ${type}`);
  if (labelValues.length !== def.labels.length)
    throw new TypeError(`${def.name} takes ${def.labels.length} label values, got ${labelValues.length}`);
}
