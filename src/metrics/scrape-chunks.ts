/**
 * What a scrape needs to stay out of the probes' way: a pacer that hands the event loop back
 * between slices of work, and a writer that packs many small pieces into large chunks (one stream
 * write per chunk, not one per check).
 */

/**
 * How long a scrape works before it lets timers and sockets run (the aim: no block above 10 ms). A
 * run due during a slice waits for its end: with 2 ms slices, runs planned while a scrape was served
 * started on the wire with a p99 of 12.6-14.6 ms over 2-minute runs against 6.2-7.1 with 0.5 ms
 * (bench/scale.mjs at 12,000 checks, Node 22, interleaved, two each; 20.1-20.5 against 10.8-11.0 in
 * the first minute), the same CPU; a scrape of 260,000 series then takes 1.1-1.2 s instead of 0.7. In
 * bench/metrics-exposition.mjs (119,000 series, Node 20) the longest block fell from 2.6-4.5 ms to
 * 1.0-1.6, the loop time about the same (67 ms p50 against 60-65).
 */
export const DEFAULT_SLICE_MS = 0.5;

/**
 * How long it then leaves the event loop and the cores to others. Without a rest a scrape kept the
 * agent's thread busy while zlib compressed its chunks on another and the scraper read them: on 2
 * cores the probes' thread was preempted 340-920 times a second during a scrape against about 100
 * over the minute, and a 1 ms timer ran more than 4 ms late 162 times a minute inside scrapes; with
 * 2 ms slices (4 before) and 2 ms rests, 33 (bench/scale.mjs at 12,000 checks, Node 22, one run each). The
 * slowest scrape of a minute took about as long (0.76-1.03 s against 0.74-0.96): it was waiting
 * for its reader and zlib as much as for this thread.
 */
export const DEFAULT_REST_MS = 2;

/** Measures a slice of work and, once the slice is used up, rests before the next one. */
export class Pacer {
  private sliceStart = performance.now();

  constructor(
    private readonly sliceMs = DEFAULT_SLICE_MS,
    /** 0: no rest, the next slice starts after one turn of the loop (tests that pause often). */
    private readonly restMs = DEFAULT_REST_MS,
  ) {}

  /** Whether this slice is used up (call it between small steps of work). */
  due(): boolean {
    return performance.now() - this.sliceStart >= this.sliceMs;
  }

  /** Lets the event loop run (due timers, socket callbacks, other requests), then a new slice starts. */
  async pause(): Promise<void> {
    const rest = this.restMs;
    await new Promise<void>((resolve) => (rest > 0 ? setTimeout(resolve, rest) : setImmediate(resolve)));
    this.sliceStart = performance.now();
  }
}

/**
 * The chunks a scrape's body is written in, used again once the writer says a chunk is written
 * (`release`, from the stream's write callback). Without reuse, a scrape of 500,000 series made
 * 95 MB of new buffers, and V8 answered that external memory with full collections during the
 * scrape (pauses of 20-45 ms measured). A chunk never released (a reader that does not say) is
 * simply collected.
 */
export class ChunkPool {
  private readonly free: Buffer[] = [];
  /** Chunks handed out and not yet back: a second release of one must not make it free twice. */
  private readonly lent = new WeakSet<ArrayBufferLike>();

  constructor(
    /**
     * 256 KB: each chunk costs the loop a stream write and, when gzipped, a zlib job's callback;
     * at 500,000 series gzip added about 130 ms of loop time per scrape with 64 KB chunks, 70 ms
     * with 256 KB.
     */
    readonly size = 256 * 1024,
    private readonly keep = 8,
  ) {}

  take(): Buffer {
    const chunk = this.free.pop() ?? Buffer.allocUnsafeSlow(this.size);
    this.lent.add(chunk.buffer);
    return chunk;
  }

  /** `chunk` (or a part of it) has been written: its buffer may be filled again. */
  release(chunk: Buffer): void {
    const whole = chunk.buffer;
    if (!this.lent.has(whole)) return;
    this.lent.delete(whole);
    if (this.free.length < this.keep) this.free.push(Buffer.from(whole, 0, this.size));
  }
}

/** Packs pieces of buffers into the pool's chunks (the last one shorter). */
export class ChunkWriter {
  private chunk: Buffer;
  private pos = 0;
  private readonly done: Buffer[] = [];

  constructor(private readonly pool: ChunkPool) {
    this.chunk = pool.take();
  }

  /** Copies `src[start, end)` in (across chunks when it does not fit). */
  copy(src: Buffer, start = 0, end = src.length): void {
    const size = this.pool.size;
    while (start < end) {
      const n = Math.min(end - start, size - this.pos);
      src.copy(this.chunk, this.pos, start, start + n);
      this.pos += n;
      start += n;
      if (this.pos === size) this.nextChunk();
    }
  }

  /**
   * The current chunk, with `bytes` free from `at` (a new chunk when this one has less), to be
   * written directly and then `advance`d; undefined when `bytes` is more than a chunk holds.
   */
  reserve(bytes: number): Buffer | undefined {
    if (bytes > this.pool.size) return undefined;
    if (this.pos + bytes > this.pool.size) this.nextChunk();
    return this.chunk;
  }

  /** Where the next byte goes in the current chunk. */
  get at(): number {
    return this.pos;
  }

  /** `bytes` were written into the reserved chunk from `at`. */
  advance(bytes: number): void {
    this.pos += bytes;
  }

  /** Whether chunks are filled and not yet handed out. */
  get filled(): boolean {
    return this.done.length > 0;
  }

  /** The chunks filled so far (each handed out once). */
  full(): Buffer[] {
    return this.done.splice(0);
  }

  /** Every chunk left, the last one cut to what was written. */
  end(): Buffer[] {
    if (this.pos > 0) this.done.push(this.chunk.subarray(0, this.pos));
    else this.pool.release(this.chunk);
    this.pos = 0;
    return this.full();
  }

  /** The current chunk is done (cut to what was written): the next from the pool. */
  private nextChunk(): void {
    this.done.push(this.pos === this.chunk.length ? this.chunk : this.chunk.subarray(0, this.pos));
    this.chunk = this.pool.take();
    this.pos = 0;
  }
}
