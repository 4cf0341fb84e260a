import type { MetricDef } from './catalogue.js';
import { familyHeader, labelPairs } from './exposition-format.js';
import { IdentityAt } from './line-writer.js';
import type { LineWriter } from './line-writer.js';

const OPEN = 0x7b;
const CLOSE = 0x7d;
const COMMA = 0x2c;
const QUOTE = 0x22;
const SPACE = 0x20;
const NEWLINE = 0x0a;

const NO_BYTES = Buffer.alloc(0);

/** The bytes of a family's lines that are the same for all its series, made when it is (re)defined. */
interface LineParts {
  /** `name`, the start of a gauge's or counter's line. */
  name: Buffer;
  /** Per own label, `name="` (after a comma from the second on): a gauge's labels are written from its values. */
  labelStarts: Buffer[];
  /** Histograms: `name_bucket{le="<bound>"` per bound, then the `+Inf` one. */
  buckets: Buffer[];
  /** Histograms: `name_sum`, `name_count`. */
  sum: Buffer;
  count: Buffer;
}

/**
 * A metric family of a SeriesStore: its definition, its place in the exposition, and what its
 * sample lines share (the identity labels, the bucket bounds), computed once.
 */
export class Family {
  private parts!: LineParts;
  private headerBytes = { text: Buffer.alloc(0), openMetrics: Buffer.alloc(0) };
  /** What a scrape puts at a line's identity mark, by IdentityAt: nothing when there are no identity labels. */
  private identityBytes: readonly Buffer[] = [];

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

  /**
   * The identity labels this family's lines carry (those its own labels do not name) as a scrape
   * writes them at a mark of each kind (IdentityAt). A new array when they change, so a scrape that
   * took it keeps writing what it began with.
   */
  get identity(): readonly Buffer[] {
    return this.identityBytes;
  }

  /** New help or label names (same type and buckets), or new identity labels. */
  redefine(def: MetricDef, identity: ReadonlyArray<readonly [string, string]>): void {
    this.current = def;
    this.headerBytes = {
      text: Buffer.from(familyHeader(def, false)),
      openMetrics: Buffer.from(familyHeader(def, true)),
    };
    // Like prom-client: a series' own label wins over an identity label of the same name.
    const own = new Set([...def.labels, ...(def.type === 'histogram' ? ['le'] : [])]);
    const kept = identity.filter(([name]) => !own.has(name));
    const pairs = labelPairs(
      kept.map(([label]) => label),
      kept.map(([, value]) => value),
    );
    const byKind: Record<IdentityAt, string> = {
      [IdentityAt.AFTER_OWN]: `,${pairs}`,
      [IdentityAt.BRACED]: `{${pairs}}`,
      [IdentityAt.BEFORE_OWN]: `${pairs},`,
    };
    this.identityBytes =
      pairs === '' ? [NO_BYTES, NO_BYTES, NO_BYTES] : [0, 1, 2].map((kind) => Buffer.from(byKind[kind as IdentityAt]));
    const name = def.name;
    this.parts = {
      name: Buffer.from(name),
      labelStarts: def.labels.map((label, i) => Buffer.from(`${i > 0 ? ',' : ''}${label}="`)),
      buckets: [...(def.buckets ?? []), '+Inf'].map((bound) => Buffer.from(`${name}_bucket{le="${bound}"`)),
      sum: Buffer.from(`${name}_sum`),
      count: Buffer.from(`${name}_count`),
    };
  }

  /**
   * A gauge's line, its labels written from `labelValues` (one per label name, in order) with no
   * string made for them. Its mark follows its name and own labels: what tells the series apart.
   */
  writeGauge(out: LineWriter, labelValues: readonly string[], value: number): void {
    const { name, labelStarts } = this.parts;
    out.bytes(name);
    if (labelStarts.length > 0) {
      out.char(OPEN);
      for (let i = 0; i < labelStarts.length; i++) {
        out.bytes(labelStarts[i] as Buffer);
        out.labelValue(labelValues[i] ?? '');
        out.char(QUOTE);
      }
    }
    this.endLine(out, labelStarts.length > 0, value);
  }

  /**
   * One series' sample lines. The label order is prom-client's: own labels then identity labels,
   * except histograms, whose lines carry `le`, then identity labels, then own labels.
   */
  writeLines(out: LineWriter, series: Series): void {
    const counts = series.buckets;
    const { name, buckets, sum, count } = this.parts;
    const labelled = series.labels !== '';
    if (counts === undefined) {
      out.bytes(name);
      if (labelled) {
        out.char(OPEN);
        out.text(series.labels);
      }
      this.endLine(out, labelled, series.value);
      return;
    }
    let cumulative = 0;
    for (let i = 0; i < buckets.length; i++) {
      cumulative = i < counts.length ? cumulative + (counts[i] ?? 0) : series.count;
      out.bytes(buckets[i] as Buffer);
      out.identity(IdentityAt.AFTER_OWN);
      if (labelled) {
        out.char(COMMA);
        out.text(series.labels);
      }
      out.char(CLOSE);
      this.value(out, cumulative);
    }
    this.writeTotal(out, sum, series.labels, series.sum);
    this.writeTotal(out, count, series.labels, series.count);
  }

  /** A histogram's `_sum` or `_count` line: identity labels first, then its own. */
  private writeTotal(out: LineWriter, name: Buffer, labels: string, value: number): void {
    out.bytes(name);
    if (labels === '') out.identity(IdentityAt.BRACED);
    else {
      out.char(OPEN);
      out.identity(IdentityAt.BEFORE_OWN);
      out.text(labels);
      out.char(CLOSE);
    }
    this.value(out, value);
  }

  /** The rest of a line after its name and own labels (the brace still open when it has any). */
  private endLine(out: LineWriter, labelled: boolean, value: number): void {
    if (labelled) {
      out.identity(IdentityAt.AFTER_OWN);
      out.char(CLOSE);
    } else out.identity(IdentityAt.BRACED);
    this.value(out, value);
  }

  private value(out: LineWriter, value: number): void {
    out.char(SPACE);
    out.value(value);
    out.char(NEWLINE);
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
