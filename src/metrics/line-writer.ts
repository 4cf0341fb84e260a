import { formatValue } from './exposition-format.js';

/** Where a LineWriter starts, and the most it keeps once a render is copied out (see release). */
const START_BYTES = 64 * 1024;

/**
 * Sample lines written straight into one reused buffer, piece by piece: a family's name and identity
 * labels as the bytes the family keeps, a series' own labels as the string it keeps, the value. An
 * owner's update used to be rendered as strings, concatenated per family and encoded: at 1,200
 * updates a second that was 40 % of everything the agent allocated (a sampling profile of the scale
 * bench counting what scavenges collect), and every scavenge is a pause for the runs due during it.
 */
export class LineWriter {
  private buf = Buffer.allocUnsafeSlow(START_BYTES);
  private at = 0;

  /** Bytes written since the last reset. */
  get length(): number {
    return this.at;
  }

  /** Starts over. */
  reset(): void {
    this.at = 0;
  }

  /**
   * Lets a buffer grown past its start size go, once what was written is copied out: only a large
   * owner (the target list, after a reload) grows it, and rarely; it should not hold megabytes between.
   */
  release(): void {
    this.at = 0;
    if (this.buf.length > START_BYTES) this.buf = Buffer.allocUnsafeSlow(START_BYTES);
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

  /** A sample value as the exposition formats spell it. */
  value(value: number): void {
    const text = formatValue(value);
    this.room(text.length);
    this.at += this.buf.write(text, this.at, 'latin1');
  }

  /** Copies what was written into `target` (at least `length` bytes long). */
  copyTo(target: Buffer): void {
    this.buf.copy(target, 0, 0, this.at);
  }

  private room(bytes: number): void {
    if (this.at + bytes <= this.buf.length) return;
    const grown = Buffer.allocUnsafeSlow(Math.max(this.buf.length * 2, this.at + bytes));
    this.buf.copy(grown, 0, 0, this.at);
    this.buf = grown;
  }
}
