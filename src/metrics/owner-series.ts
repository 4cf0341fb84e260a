import type { MetricDef } from './catalogue.js';
import { labelPairs, pairsMatch } from './exposition-format.js';
import type { Family } from './family.js';
import { Series } from './family.js';
import { SCAN_LIMIT } from './gauge-lines.js';
import type { GaugeLines } from './gauge-lines.js';
import type { LineWriter } from './line-writer.js';
import type { Place } from '../slabs.js';

type MetricType = MetricDef['type'];

/**
 * Whether a counter or histogram series stays when its owner's update ends: `seen` in this update,
 * last written at `lastMs`. The default keeps them all (they go with `SeriesStore.forget`). Gauges
 * are not asked: a gauge describes the update that set it, so one the latest update did not set is gone.
 */
export type KeepSeries = (type: MetricType, seen: boolean, lastMs: number) => boolean;

/**
 * An owner's sample lines as bytes, family after family, without the identity labels, and where
 * those go: in `buf` from `base` (its place, see slabs.ts), the lines; from `base +
 * marksAt`, one 32-bit word per line, its mark (line-writer.ts: where the identity labels go, as
 * an offset from `base`, and how); from `base + spansAt`, per family it has lines in, in family
 * order, three words: the family's index, the end of its lines and the end of their marks (offsets
 * from `base` and counts; a family's lines start where the one before ends, the first at 0).
 */
export interface Rendered extends Place {
  marksAt: number;
  spansAt: number;
  /** Families it has lines in. */
  spans: number;
  /** The series rendered (as `OwnerSeries.size` counts them). */
  size: number;
}

/** What an owner's updates are written with and rendered by: its store. */
export interface OwnerHost {
  /** The gauges of the update in progress (one store-wide). */
  readonly gauges: GaugeLines;
  render(owner: OwnerSeries): void;
}

/**
 * The series of one owner (a check, the target list): written in updates (`begin` ... `end`),
 * rendered to sample lines once per update, by the store, when the update ends. An update runs
 * without a pause: the store has one set of gauge lines for whichever update is in progress.
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
  /** Gauges of the last update ended (they live only as its lines). */
  private gauges = 0;
  private run = 0;
  private nowMs = 0;

  constructor(private readonly host: OwnerHost) {}

  /** Series as Prometheus counts them: a histogram is a series per bucket (and +Inf), plus sum and count. */
  get size(): number {
    let count = this.gauges;
    for (const series of this.accumulating) count += series.buckets === undefined ? 1 : series.buckets.length + 3;
    return count;
  }

  /**
   * Starts an update at `nowMs` (what `KeepSeries` compares `lastMs` with); its gauges replace the
   * last update's. An update of another owner still open is abandoned (its owner keeps its last lines).
   */
  begin(nowMs: number): this {
    this.run++;
    this.nowMs = nowMs;
    this.host.gauges.begin(this);
    return this;
  }

  /**
   * Sets a gauge. `labelValues` holds one value per label name of the family, in order; it is read,
   * not kept (a caller may fill the same array again for its next series).
   */
  set(family: Family, labelValues: readonly string[], value: number): this {
    checkSample(family, 'gauge', labelValues);
    this.updating().set(family, labelValues, value);
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
    const gauges = this.updating();
    try {
      this.sweep(keep);
      this.gauges = gauges.size;
      this.host.render(this);
    } finally {
      // Ended even when `keep` throws: the update's writer is released, and a second end() throws.
      gauges.end();
    }
  }

  /** Drops the counters and histograms `keep` refuses; when it throws, keeps what it was not asked about, each once. */
  private sweep(keep: KeepSeries): void {
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
      while (i < list.length) list[kept++] = list[i++] as Series;
      list.length = kept;
    }
  }

  /**
   * Writes this owner's sample lines, family by family in index order (within a family, gauges in
   * the order set, then counters or histograms in the order first written), and after each family
   * its index, the end of its lines and the count of marks in `out` (as `out` counts them, the
   * update's gauge lines included) into `spans`. Called by the store while the update ends.
   */
  write(out: LineWriter, spans: number[]): void {
    const gauges = this.host.gauges;
    // The families in order without sorting anything: an owner has series in a dozen at most.
    for (let index = this.nextFamily(-1); index >= 0; index = this.nextFamily(index)) {
      gauges.writeFamily(index);
      for (const one of this.accumulating) if (one.family.index === index) one.family.writeLines(out, one);
      spans.push(index, out.length, out.markLength);
    }
  }

  /** The gauge lines of this owner's update, which must be the one in progress. */
  private updating(): GaugeLines {
    const gauges = this.host.gauges;
    if (gauges.owner !== this) throw new TypeError('a series update must begin() before it is written or ended');
    return gauges;
  }

  /** The smallest index of a family this owner has series in above `after`; -1 when none is. */
  private nextFamily(after: number): number {
    let next = this.host.gauges.nextFamily(after, Infinity);
    for (const one of this.accumulating) {
      const index = one.family.index;
      if (index > after && index < next) next = index;
    }
    return next === Infinity ? -1 : next;
  }

  /** The counter or histogram series of `family` and `labelValues`, created on first use, marked as written now. */
  private touch(family: Family, labelValues: readonly string[]): Series {
    this.updating();
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

/** Refuses a sample whose family is not of `type` or does not take that many label values (a bug). */
function checkSample(family: Family, type: MetricType, labelValues: readonly string[]): void {
  const def = family.def;
  if (def.type !== type) throw new TypeError(`${def.name} is a ${def.type}, not a ${type}`);
  if (labelValues.length !== def.labels.length)
    throw new TypeError(`${def.name} takes ${def.labels.length} label values, got ${labelValues.length}`);
}
