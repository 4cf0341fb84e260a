import type { MetricDef } from './catalogue.js';
import { familyHeader, labelPairs } from './exposition-format.js';
import type { LineWriter } from './line-writer.js';

const OPEN = 0x7b;
const CLOSE = 0x7d;
const COMMA = 0x2c;
const SPACE = 0x20;
const NEWLINE = 0x0a;

/** The bytes of a family's lines that are the same for all its series, made when it is (re)defined. */
interface LineParts {
  /** `name`, the start of a gauge's or counter's line. */
  name: Buffer;
  /** The identity labels this family's lines carry (those its own labels do not name), rendered. */
  ident: Buffer;
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
    // Like prom-client: a series' own label wins over an identity label of the same name.
    const own = new Set([...def.labels, ...(def.type === 'histogram' ? ['le'] : [])]);
    const kept = identity.filter(([name]) => !own.has(name));
    const name = def.name;
    this.parts = {
      name: Buffer.from(name),
      ident: Buffer.from(
        labelPairs(
          kept.map(([label]) => label),
          kept.map(([, value]) => value),
        ),
      ),
      buckets: [...(def.buckets ?? []), '+Inf'].map((bound) => Buffer.from(`${name}_bucket{le="${bound}"`)),
      sum: Buffer.from(`${name}_sum`),
      count: Buffer.from(`${name}_count`),
    };
  }

  /** The sample line of a series without buckets (a gauge, a counter): `labels` are its own, rendered. */
  writeSample(out: LineWriter, labels: string, value: number): void {
    out.bytes(this.parts.name);
    this.labels(out, labels, true);
    out.char(SPACE);
    out.value(value);
    out.char(NEWLINE);
  }

  /**
   * One series' sample lines. The label order is prom-client's: own labels then identity labels,
   * except histograms, whose lines carry `le`, then identity labels, then own labels.
   */
  writeLines(out: LineWriter, series: Series): void {
    const counts = series.buckets;
    if (counts === undefined) {
      this.writeSample(out, series.labels, series.value);
      return;
    }
    const { buckets, ident, sum, count } = this.parts;
    let cumulative = 0;
    for (let i = 0; i < buckets.length; i++) {
      cumulative = i < counts.length ? cumulative + (counts[i] ?? 0) : series.count;
      out.bytes(buckets[i] as Buffer);
      if (ident.length > 0) {
        out.char(COMMA);
        out.bytes(ident);
      }
      if (series.labels !== '') {
        out.char(COMMA);
        out.text(series.labels);
      }
      out.char(CLOSE);
      out.char(SPACE);
      out.value(cumulative);
      out.char(NEWLINE);
    }
    this.writeTotal(out, sum, series.labels, series.sum);
    this.writeTotal(out, count, series.labels, series.count);
  }

  /** A histogram's `_sum` or `_count` line: identity labels first, then its own. */
  private writeTotal(out: LineWriter, name: Buffer, labels: string, value: number): void {
    out.bytes(name);
    this.labels(out, labels, false);
    out.char(SPACE);
    out.value(value);
    out.char(NEWLINE);
  }

  /** A series' own labels and the identity labels in one pair of braces, or nothing when both are empty. */
  private labels(out: LineWriter, own: string, ownFirst: boolean): void {
    const ident = this.parts.ident;
    if (own === '' && ident.length === 0) return;
    const both = own !== '' && ident.length > 0;
    out.char(OPEN);
    if (ownFirst) {
      out.text(own);
      if (both) out.char(COMMA);
      out.bytes(ident);
    } else {
      out.bytes(ident);
      if (both) out.char(COMMA);
      out.text(own);
    }
    out.char(CLOSE);
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
