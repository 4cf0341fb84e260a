import { escapeLabelValue, formatValue } from './exposition-format.js';

/** Where a LineWriter starts, and the most it keeps once a render is copied out (see release). */
const START_BYTES = 64 * 1024;
const START_MARKS = 1024;

/**
 * Where a line's identity labels go, and so what is put there at a scrape (see Family.identity):
 * - AFTER_OWN: after its own labels, before the `}` (`,agent="a"`); also after a bucket's `le`;
 * - BRACED: a line of no own labels (`{agent="a"}`);
 * - BEFORE_OWN: before its own labels, after the `{` (`agent="a",`): a histogram's sum and count.
 * Written as the two low bits of a mark, above them the mark's byte offset.
 */
export const IdentityAt = { AFTER_OWN: 0, BRACED: 1, BEFORE_OWN: 2 } as const;
export type IdentityAt = (typeof IdentityAt)[keyof typeof IdentityAt];

/** A mark's byte offset and kind in one unsigned 32-bit number (lines of up to 1 GiB). */
export function markOf(at: number, kind: IdentityAt): number {
  return at * 4 + kind;
}

export function markOffset(mark: number): number {
  return mark >>> 2;
}

/** The same mark for a line moved by `bytes` (negative: towards the start). */
export function movedMark(mark: number, bytes: number): number {
  return mark + bytes * 4;
}

export function markKind(mark: number): IdentityAt {
  return (mark & 3) as IdentityAt;
}

/**
 * Sample lines written straight into one reused buffer, piece by piece: a family's name as the
 * bytes the family keeps, a series' own labels, the value. An owner's update used to be rendered as
 * strings, concatenated per family and encoded: at 1,200 updates a second that was 40 % of
 * everything the agent allocated (a sampling profile of the scale bench counting what scavenges
 * collect), and every scavenge is a pause for the runs due during it.
 *
 * The agent's identity labels are not written: each line gets a mark where they go, and a scrape
 * puts them there (the same 50-100 bytes on every line of every owner were a third of the bytes kept).
 */
export class LineWriter {
  private buf = Buffer.allocUnsafeSlow(START_BYTES);
  private at = 0;
  private marks = new Uint32Array(START_MARKS);
  private markCount = 0;

  /** Bytes written since the last reset. */
  get length(): number {
    return this.at;
  }

  /** Marks written since the last reset. */
  get markLength(): number {
    return this.markCount;
  }

  /** The last mark written (a line's, right after the line). */
  get lastMark(): number {
    return this.marks[this.markCount - 1] ?? 0;
  }

  /** Starts over. */
  reset(): void {
    this.at = 0;
    this.markCount = 0;
  }

  /**
   * Lets a buffer grown past its start size go, once what was written is copied out: only a large
   * owner (the target list, after a reload) grows it, and rarely; it should not hold megabytes between.
   */
  release(): void {
    this.reset();
    if (this.buf.length > START_BYTES) this.buf = Buffer.allocUnsafeSlow(START_BYTES);
    if (this.marks.length > START_MARKS) this.marks = new Uint32Array(START_MARKS);
  }

  bytes(src: Buffer): void {
    this.room(src.length);
    // TypedArray's set, not Buffer's copy: for a few dozen bytes, copy's own checks cost more than the bytes.
    this.buf.set(src, this.at);
    this.at += src.length;
  }

  /** One ASCII character, by its code. */
  char(code: number): void {
    this.room(1);
    this.buf[this.at++] = code;
  }

  /** Text as UTF-8 (label pairs already escaped). */
  text(value: string): void {
    if (value === '') return;
    // UTF-8 takes at most three bytes per UTF-16 unit.
    this.room(value.length * 3);
    this.at += this.buf.write(value, this.at);
  }

  /** A label value, escaped as both formats want it (no new string unless it needs escaping). */
  labelValue(value: string): void {
    this.text(escapeLabelValue(value));
  }

  /** A sample value as the exposition formats spell it. */
  value(value: number): void {
    const text = formatValue(value);
    this.room(text.length);
    this.at += this.buf.write(text, this.at, 'latin1');
  }

  /** Marks the place the identity labels go in the line being written. */
  identity(kind: IdentityAt): void {
    this.mark(markOf(this.at, kind));
  }

  /**
   * Writes again a line written earlier into this writer, [start, end), with its one mark (moved to
   * where the copy lands): within one buffer, so without the view Node 20 makes for each range
   * Buffer#copy copies out of a buffer (a gauge line per series per run).
   */
  line(start: number, end: number, mark: number): void {
    this.room(end - start);
    const shift = this.at - start;
    this.buf.copyWithin(this.at, start, end);
    this.at += end - start;
    this.mark(movedMark(mark, shift));
  }

  /** Whether bytes [a, aEnd) and [b, bEnd) of what was written are the same. */
  same(a: number, aEnd: number, b: number, bEnd: number): boolean {
    return aEnd - a === bEnd - b && this.buf.compare(this.buf, a, aEnd, b, bEnd) === 0;
  }

  /** Bytes [start, end) as a string of one character per byte (a map key, not text). */
  key(start: number, end: number): string {
    return this.buf.toString('latin1', start, end);
  }

  /**
   * Copies what was written from byte `from` into `target` at `base`, and the marks from the
   * `marksFrom`th as 32-bit words at `base + marksAt`, each moved back by `from`.
   */
  copyTo(target: Buffer, base: number, from: number, marksFrom: number, marksAt: number): void {
    this.buf.copy(target, base, from, this.at);
    for (let i = marksFrom; i < this.markCount; i++)
      target.writeUInt32LE(movedMark(this.marks[i] ?? 0, -from), base + marksAt + (i - marksFrom) * 4);
  }

  private mark(mark: number): void {
    if (this.markCount === this.marks.length) {
      const grown = new Uint32Array(this.marks.length * 2);
      grown.set(this.marks);
      this.marks = grown;
    }
    this.marks[this.markCount++] = mark;
  }

  private room(bytes: number): void {
    if (this.at + bytes <= this.buf.length) return;
    const grown = Buffer.allocUnsafeSlow(Math.max(this.buf.length * 2, this.at + bytes));
    this.buf.copy(grown, 0, 0, this.at);
    this.buf = grown;
  }
}
