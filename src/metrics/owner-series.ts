import type { MetricDef } from './catalogue.js';
import { braces, familyHeader, formatValue, labelPairs } from './exposition-format.js';

type MetricType = MetricDef['type'];

/**
 * A metric family of a SeriesStore: its definition, its place in the exposition, and what its
 * sample lines share (the identity labels, the bucket bounds), computed once.
 */
export class Family {
  /** The identity labels this family's lines carry (those its own labels do not name), rendered. */
  private ident = '';
  private les: string[] = [];
  private headerBytes = { text: Buffer.alloc(0), openMetrics: Buffer.alloc(0) };

  constructor(
    private current: MetricDef,
    /** Its position in the exposition: families are written in the order they were created. */
    readonly index: number,
    identity: ReadonlyArray<readonly [string, string]>,
  ) {
    this.redefine(current, identity);
  }

  get def(): MetricDef {
    return this.current;
  }

  header(openMetrics: boolean): Buffer {
    return openMetrics ? this.headerBytes.openMetrics : this.headerBytes.text;
  }

  /** New help or label names (same type and buckets), or new identity labels. */
  redefine(def: MetricDef, identity: ReadonlyArray<readonly [string, string]>): void {
    this.current = def;
    this.headerBytes = {
      text: Buffer.from(familyHeader(def, false)),
      openMetrics: Buffer.from(familyHeader(def, true)),
    };
    this.les = (def.buckets ?? []).map((bound) => `le="${bound}"`);
    // Like prom-client: a series' own label wins over an identity label of the same name.
    const own = new Set([...def.labels, ...(def.type === 'histogram' ? ['le'] : [])]);
    const kept = identity.filter(([name]) => !own.has(name));
    this.ident = labelPairs(
      kept.map(([name]) => name),
      kept.map(([, value]) => value),
    );
  }

  /** The sample line of a series without buckets (a gauge, a counter): `labels` are its own, rendered. */
  sampleLine(labels: string, value: number): string {
    return `${this.current.name}${braces(labels, this.ident)} ${formatValue(value)}\n`;
  }

  /**
   * One series' sample lines. The label order is prom-client's: own labels then identity labels,
   * except histograms, whose lines carry `le`, then identity labels, then own labels.
   */
  lines(series: Series): string {
    const name = this.current.name;
    const buckets = series.buckets;
    if (buckets === undefined) return this.sampleLine(series.labels, series.value);
    const tail = `${this.ident === '' ? '' : `,${this.ident}`}${series.labels === '' ? '' : `,${series.labels}`}} `;
    let out = '';
    let cumulative = 0;
    for (let i = 0; i < this.les.length; i++) {
      cumulative += buckets[i] ?? 0;
      out += `${name}_bucket{${this.les[i]}${tail}${formatValue(cumulative)}\n`;
    }
    const both = braces(this.ident, series.labels);
    const count = formatValue(series.count);
    out += `${name}_bucket{le="+Inf"${tail}${count}\n`;
    return `${out}${name}_sum${both} ${formatValue(series.sum)}\n${name}_count${both} ${count}\n`;
  }
}

/** A counter or a histogram series: its family, own labels (rendered), value or buckets, sum and count. */
export class Series {
  value = 0;
  sum = 0;
  count = 0;
  lastMs = 0;
  run = 0;
  constructor(
    readonly family: Family,
    readonly labels: string,
    /** Histograms: observations per bucket (not cumulative), one per bound. */
    readonly buckets: Float64Array | undefined,
  ) {}
}

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
   * Counters and histograms, which add up across updates: `<own labels>|<family index>` -> series,
   * in the order first written (one flat map per owner: a map per family cost more heap).
   */
  private readonly accumulating = new Map<string, Series>();
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
   * During an update of more than SCAN_LIMIT gauges: `<own labels>|<family index>` -> index of a
   * gauge set in it. Smaller updates (a check's, about 10 gauges) find one by a scan instead: a
   * map per owner kept across updates cost 1.5 KB each (36 MB at 24,000 owners), and one cleared
   * per update made a new table that lived until the next update, long enough to be moved to the
   * old generation every time.
   */
  private gaugeIndex: Map<string, number> | undefined;
  /** The labels of the last gauge set in this update (see sharedLabels). */
  private lastLabels: { names: readonly string[]; values: readonly string[]; rendered: string } | undefined;
  private run = 0;
  private nowMs = 0;

  constructor(private readonly render: (owner: OwnerSeries) => void) {}

  /** Series as Prometheus counts them: a histogram is a series per bucket (and +Inf), plus sum and count. */
  get size(): number {
    let count = this.gauges;
    for (const series of this.accumulating.values())
      count += series.buckets === undefined ? 1 : series.buckets.length + 3;
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

  /** Sets a gauge. `labelValues` holds one value per label name of the family, in order. */
  set(family: Family, labelValues: readonly string[], value: number): this {
    const labels = this.sharedLabels(family, labelValues);
    let i = this.gaugeAt(family, labels);
    if (i < 0) {
      i = this.gauges++;
      this.gaugeFamilies[i] = family;
      // The string the last update left here when it is the same: the new one then dies young.
      if (this.gaugeLabels[i] !== labels) this.gaugeLabels[i] = labels;
      if (this.gaugeIndex) this.gaugeIndex.set(`${labels}|${family.index}`, i);
      else if (this.gauges > SCAN_LIMIT) {
        this.gaugeIndex = new Map();
        for (let j = 0; j < this.gauges; j++)
          this.gaugeIndex.set(`${this.gaugeLabels[j] ?? ''}|${this.gaugeFamilies[j]?.index ?? -1}`, j);
      }
    }
    this.gaugeValues[i] = value;
    return this;
  }

  /** Increases a counter; a negative or non-finite amount is ignored (a counter never goes down). */
  inc(family: Family, labelValues: readonly string[], amount = 1): this {
    if (Number.isFinite(amount) && amount >= 0) this.touch(family, 'counter', labelValues).value += amount;
    return this;
  }

  /** Adds an observation to a histogram (`le` is inclusive, as prom-client's); non-finite is ignored. */
  observe(family: Family, labelValues: readonly string[], value: number): this {
    if (!Number.isFinite(value)) return this;
    const series = this.touch(family, 'histogram', labelValues);
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
    for (const [key, one] of this.accumulating)
      if (!keep(one.family.def.type, one.run === this.run, one.lastMs)) this.accumulating.delete(key);
    for (const gaugeArray of [this.gaugeFamilies, this.gaugeLabels, this.gaugeValues]) gaugeArray.length = this.gauges;
    this.gaugeIndex = undefined;
    this.lastLabels = undefined;
    this.render(this);
  }

  /** Whether this owner has a series in the family. */
  has(family: Family): boolean {
    if (this.gaugeFamilies.includes(family)) return true;
    for (const one of this.accumulating.values()) if (one.family === family) return true;
    return false;
  }

  /** The sample lines of this owner, per family index (`families` of them). */
  lines(families: number): string[] {
    const texts = new Array<string>(families).fill('');
    for (let i = 0; i < this.gauges; i++) {
      const family = this.gaugeFamilies[i];
      if (family) texts[family.index] += family.sampleLine(this.gaugeLabels[i] ?? '', this.gaugeValues[i] ?? 0);
    }
    for (const one of this.accumulating.values()) texts[one.family.index] += one.family.lines(one);
    return texts;
  }

  /**
   * The gauge's own labels rendered, as the same string as the previous gauge's when its label names
   * and values are the same: a run sets several gauges of one IP (success, duration, last run, the
   * kind's own), and one string for all of them saved a check about a kilobyte of heap.
   */
  private sharedLabels(family: Family, labelValues: readonly string[]): string {
    const names = family.def.labels;
    const last = this.lastLabels;
    if (
      last !== undefined &&
      family.def.type === 'gauge' &&
      sameStrings(last.names, names) &&
      sameStrings(last.values, labelValues)
    )
      return last.rendered;
    const rendered = ownLabels(family, 'gauge', labelValues);
    // A copy: a caller may fill the same array again for its next series.
    this.lastLabels = { names, values: [...labelValues], rendered };
    return rendered;
  }

  /** Index of the gauge of `family` and `labels` set in this update, or -1. */
  private gaugeAt(family: Family, labels: string): number {
    if (this.gaugeIndex) return this.gaugeIndex.get(`${labels}|${family.index}`) ?? -1;
    for (let i = 0; i < this.gauges; i++)
      if (this.gaugeFamilies[i] === family && this.gaugeLabels[i] === labels) return i;
    return -1;
  }

  private touch(family: Family, type: 'counter' | 'histogram', labelValues: readonly string[]): Series {
    const labels = ownLabels(family, type, labelValues);
    const key = `${labels}|${family.index}`;
    let one = this.accumulating.get(key);
    if (!one) {
      const buckets = type === 'histogram' ? new Float64Array(family.def.buckets?.length ?? 0) : undefined;
      // The labels as a slice of the (flat) key: no second copy.
      one = new Series(family, key.slice(0, labels.length), buckets);
      this.accumulating.set(key, one);
    }
    one.run = this.run;
    one.lastMs = this.nowMs;
    return one;
  }
}

/** Gauges an update finds by scanning its own; past this many, through a map (OwnerSeries.gaugeIndex). */
const SCAN_LIMIT = 32;

/** A series' own labels rendered, once its family is known to be of `type` and to take that many values. */
function ownLabels(family: Family, type: MetricType, labelValues: readonly string[]): string {
  const def = family.def;
  if (def.type !== type) throw new TypeError(`${def.name} is a ${def.type}, not a ${type}`);
  if (labelValues.length !== def.labels.length)
    throw new TypeError(`${def.name} takes ${def.labels.length} label values, got ${labelValues.length}`);
  return labelPairs(def.labels, labelValues);
}

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
