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

  /**
   * One series' sample lines. The label order is prom-client's: own labels then identity labels,
   * except histograms, whose lines carry `le`, then identity labels, then own labels.
   */
  lines(series: Series): string {
    const name = this.current.name;
    const buckets = series.buckets;
    if (buckets === undefined) return `${name}${braces(series.labels, this.ident)} ${formatValue(series.value)}\n`;
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

/** One series: its family, own labels (rendered) and value, or a histogram's buckets, sum and count. */
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
 * Whether a series stays when its owner's update ends: `seen` in this update, last written at `lastMs`.
 * The default keeps every series (they go with `SeriesStore.forget`).
 */
export type KeepSeries = (type: MetricType, seen: boolean, lastMs: number) => boolean;

/** An owner's sample lines as bytes, family after family; family i is `buf[offsets[i], offsets[i + 1])`. */
export interface Rendered {
  generation: number;
  buf: Buffer;
  offsets: Uint32Array;
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
   * `<own labels>|<family index>` -> series, in the order first written. One map per owner, flat
   * keys: a map per family, or labels kept as the ropes string concatenation makes, cost a check
   * several kilobytes of heap more.
   */
  private readonly series = new Map<string, Series>();
  private run = 0;
  private nowMs = 0;

  constructor(private readonly render: (owner: OwnerSeries) => void) {}

  /** Series as Prometheus counts them: a histogram is a series per bucket (and +Inf), plus sum and count. */
  get size(): number {
    let count = 0;
    for (const series of this.series.values()) count += series.buckets === undefined ? 1 : series.buckets.length + 3;
    return count;
  }

  /** Starts an update at `nowMs` (what `KeepSeries` compares `lastMs` with). */
  begin(nowMs: number): this {
    this.run++;
    this.nowMs = nowMs;
    return this;
  }

  /** Sets a gauge. `labelValues` holds one value per label name of the family, in order. */
  set(family: Family, labelValues: readonly string[], value: number): this {
    this.touch(family, 'gauge', labelValues).value = value;
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

  /** Ends the update: drops the series `keep` refuses, then has the store render the rest. */
  end(keep: KeepSeries = () => true): void {
    for (const [key, one] of this.series)
      if (!keep(one.family.def.type, one.run === this.run, one.lastMs)) this.series.delete(key);
    this.render(this);
  }

  /** Whether this owner has a series in the family. */
  has(family: Family): boolean {
    for (const one of this.series.values()) if (one.family === family) return true;
    return false;
  }

  /** The sample lines of this owner, per family index (`families` of them). */
  lines(families: number): string[] {
    const texts = new Array<string>(families).fill('');
    for (const one of this.series.values()) texts[one.family.index] += one.family.lines(one);
    return texts;
  }

  private touch(family: Family, type: MetricType, labelValues: readonly string[]): Series {
    const def = family.def;
    if (def.type !== type) throw new TypeError(`${def.name} is a ${def.type}, not a ${type}`);
    if (labelValues.length !== def.labels.length)
      throw new TypeError(`${def.name} takes ${def.labels.length} label values, got ${labelValues.length}`);
    const labels = labelPairs(def.labels, labelValues);
    const key = [labels, family.index].join('|');
    let one = this.series.get(key);
    if (!one) {
      // The labels as a slice of the (flat) key: no second copy.
      const buckets = type === 'histogram' ? new Float64Array(def.buckets?.length ?? 0) : undefined;
      one = new Series(family, key.slice(0, labels.length), buckets);
      this.series.set(key, one);
    }
    one.run = this.run;
    one.lastMs = this.nowMs;
    return one;
  }
}
