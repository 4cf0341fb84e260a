/**
 * What a scrape needs to stay out of the probes' way: a pacer that hands the event loop back
 * between slices of work, and a writer that packs many small pieces into large chunks (one stream
 * write per chunk, not one per check).
 */

/** How long a scrape works before it lets timers and sockets run (the aim: no block above 10 ms). */
export const DEFAULT_SLICE_MS = 4;

/** Measures a slice of work and yields to the event loop once the slice is used up. */
export class Pacer {
  private sliceStart = performance.now();

  constructor(private readonly sliceMs = DEFAULT_SLICE_MS) {}

  /** Whether this slice is used up (call it between small steps of work). */
  due(): boolean {
    return performance.now() - this.sliceStart >= this.sliceMs;
  }

  /**
   * Lets the event loop run: due timers, socket callbacks and other requests get their turn, then
   * a new slice starts. setImmediate, not a timer: no idle millisecond per slice.
   */
  async pause(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.sliceStart = performance.now();
  }
}

/**
 * Packs pieces of buffers into chunks of `size` bytes (the last one shorter). 256 KB: each chunk
 * costs the loop a stream write and, when gzipped, a zlib job's callback; measured at 500,000
 * series, gzip added about 130 ms of loop time per scrape with 64 KB chunks and 70 ms with 256 KB.
 */
export class ChunkWriter {
  private chunk: Buffer;
  private pos = 0;
  private readonly done: Buffer[] = [];

  constructor(private readonly size = 256 * 1024) {
    this.chunk = Buffer.allocUnsafe(size);
  }

  /** Copies `src[start, end)` in (across chunks when it does not fit). */
  copy(src: Buffer, start = 0, end = src.length): void {
    while (start < end) {
      const n = Math.min(end - start, this.size - this.pos);
      src.copy(this.chunk, this.pos, start, start + n);
      this.pos += n;
      start += n;
      if (this.pos === this.size) {
        this.done.push(this.chunk);
        this.chunk = Buffer.allocUnsafe(this.size);
        this.pos = 0;
      }
    }
  }

  /** The chunks filled so far (each handed out once). */
  full(): Buffer[] {
    return this.done.splice(0);
  }

  /** Every chunk left, the last one cut to what was written. */
  end(): Buffer[] {
    if (this.pos > 0) this.done.push(this.chunk.subarray(0, this.pos));
    this.chunk = Buffer.allocUnsafe(0);
    this.pos = 0;
    return this.full();
  }
}
