import { appendFile, rename, stat, truncate } from 'node:fs/promises';
import { pause } from '../clock.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import { postJson } from '../net/http/post-json.js';
import type { ProblemEvent } from './problem-event.js';
import type { EgressChangeEvent } from '../egress/egress-monitor.js';
import type { QualityChangeEvent } from '../quality/quality-event.js';
import type { LeaderChangeEvent } from '../ranking/leader-event.js';

/** What sinks carry: problem events, egress-IP changes and network-quality changes, told apart by `event`. */
export type AgentEvent = ProblemEvent | EgressChangeEvent | QualityChangeEvent | LeaderChangeEvent;

/** Where problem events go besides the log. */
export interface EventSink {
  readonly name: string;
  send(event: AgentEvent): void;
  /** Events dropped because the sink could not keep up (bounded queue). */
  dropped(): number;
  queued(): number;
  /** Tries to deliver what is queued (bounded by `deadlineMs`), then stops. */
  close(deadlineMs: number): Promise<void>;
}

/**
 * JSON lines appended to a file, rotated by size: `events.jsonl` -> `events.jsonl.1` -> ... up to
 * `maxFiles`. Writes are serialised so lines never interleave and rotation never loses one.
 *
 * An event that cannot be written (a full disk, a read-only or vanished directory) is dropped and
 * counted, and a line cut short by the failure is cut off again, so the file holds whole lines only
 * and `dropped()` is exactly the events missing from it. A run of failures is logged once when it
 * starts and once when writes succeed again (with how many were lost), not once per event.
 */
export class FileSink implements EventSink {
  readonly name: string;
  private chain: Promise<void> = Promise.resolve();
  private pending = 0;
  private droppedCount = 0;
  /** Events dropped since writes started failing; undefined while they succeed. */
  private failing: number | undefined;

  constructor(
    private readonly path: string,
    private readonly maxBytes: number,
    private readonly maxFiles: number,
    private readonly log: Logger,
  ) {
    this.name = `file:${path}`;
  }

  /** Any JSON-able record: events, and the quality model's observations (quality.record_file). */
  send(event: object): void {
    this.pending++;
    const line = `${JSON.stringify(event)}\n`;
    this.chain = this.chain.then(() => this.write(line)).finally(() => this.pending--);
  }

  private async write(line: string): Promise<void> {
    // The size before this line, to cut back to if the write fails; unknown if stat failed for
    // another reason than a missing file (then nothing is cut).
    let before = await stat(this.path).then(
      (s): number | undefined => s.size,
      (err: unknown) => (errorCode(err) === 'ENOENT' ? 0 : undefined),
    );
    try {
      if (before !== undefined && before > 0 && before + Buffer.byteLength(line) > this.maxBytes) {
        await this.rotate();
        before = 0;
      }
      await appendFile(this.path, line);
    } catch (err) {
      // appendFile may have written part of the line before the disk filled: cut it off, or the
      // next event would be glued to a broken one.
      if (before !== undefined) await truncate(this.path, before).catch(() => undefined);
      this.droppedCount++;
      if (this.failing === undefined) {
        this.failing = 0;
        this.log.error(
          { sink: this.name, code: errorCode(err), error: err instanceof Error ? err.message : String(err) },
          'cannot write problem events to the file; dropping and counting them until a write succeeds',
        );
      }
      this.failing++;
      return;
    }
    if (this.failing !== undefined) {
      this.log.warn({ sink: this.name, dropped: this.failing }, 'writing problem events to the file again');
      this.failing = undefined;
    }
  }

  private async rotate(): Promise<void> {
    for (let i = this.maxFiles - 1; i >= 1; i--) {
      await rename(i === 1 ? this.path : `${this.path}.${i - 1}`, `${this.path}.${i}`).catch(() => undefined);
    }
    if (this.maxFiles <= 1) await rename(this.path, `${this.path}.1`).catch(() => undefined);
  }

  dropped(): number {
    return this.droppedCount;
  }

  queued(): number {
    return this.pending;
  }

  async close(): Promise<void> {
    await this.chain;
  }
}

export interface HttpSinkOptions {
  url: string;
  headers: Record<string, string>;
  batchSize: number;
  flushIntervalMs: number;
  maxQueue: number;
  /** First retry delay; doubles up to maxBackoffMs. */
  backoffMs: number;
  maxBackoffMs: number;
  requestTimeoutMs: number;
}

/**
 * Events POSTed as a JSON array in batches. A batch leaves the queue only when the endpoint
 * answered 2xx, so a sink that fails and recovers gets every event exactly once, in order; failures
 * are retried with exponential back-off. The queue is bounded: when full, new events are dropped
 * and counted (a dead sink never grows memory).
 */
export class HttpSink implements EventSink {
  readonly name: string;
  private readonly queue: AgentEvent[] = [];
  private droppedCount = 0;
  private inFlight: Promise<boolean> | undefined;
  private cancelTimer: (() => void) | undefined;
  private backoff: number;
  /** Monotonic ms before which a failed collector is not tried again (back-off). */
  private retryAtMs = 0;
  private closed = false;
  /** Aborted when close's deadline passes: ends the POST in flight, however long its own timeout. */
  private readonly closing = new AbortController();

  constructor(
    private readonly opts: HttpSinkOptions,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {
    this.name = `http:${new URL(opts.url).origin}`;
    this.backoff = opts.backoffMs;
  }

  send(event: AgentEvent): void {
    if (this.queue.length >= this.opts.maxQueue || this.closed) {
      this.droppedCount++;
      return;
    }
    this.queue.push(event);
    if (this.queue.length >= this.opts.batchSize && this.nowMs() >= this.retryAtMs) void this.flush();
    else this.schedule(this.opts.flushIntervalMs);
  }

  dropped(): number {
    return this.droppedCount;
  }

  queued(): number {
    return this.queue.length;
  }

  /**
   * Delivers what is queued within `deadlineMs` (waiting for a send in flight, retrying with
   * back-off); at the deadline a POST still in flight is aborted, and what is left is counted as
   * dropped: nothing disappears uncounted, and a hanging collector cannot hold the shutdown.
   */
  async close(deadlineMs: number): Promise<void> {
    this.closed = true;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    const aborted = this.closing.signal;
    const until = this.nowMs() + deadlineMs;
    const cancelAbort = this.clock.setTimer(deadlineMs, () => this.closing.abort());
    try {
      while (this.queue.length > 0 && !aborted.aborted) {
        await this.inFlight;
        const left = until - this.nowMs();
        if (left <= 0 || this.queue.length === 0 || aborted.aborted) break;
        if (!(await this.flush(left))) await pause(this.clock, Math.min(this.backoff, left), aborted);
      }
    } finally {
      cancelAbort();
    }
    // Nothing may stay in flight past the deadline (a loop that ended early has none).
    this.closing.abort();
    await this.inFlight;
    if (this.queue.length > 0) {
      this.log.warn(
        { sink: this.name, dropped: this.queue.length },
        'event sink closed with undelivered events; they are counted as dropped',
      );
      this.droppedCount += this.queue.splice(0).length;
    }
  }

  private nowMs(): number {
    return Number(this.clock.monotonicNs() / 1_000_000n);
  }

  private schedule(ms: number): void {
    if (this.cancelTimer || this.closed) return;
    this.cancelTimer = this.clock.setTimer(ms, () => {
      this.cancelTimer = undefined;
      // A timer set before a failure must not cut the back-off short.
      const wait = this.retryAtMs - this.nowMs();
      if (wait > 0) this.schedule(wait);
      else void this.flush();
    });
  }

  /** Sends the head batch (one send at a time); resolves true if it was delivered. */
  private flush(budgetMs = this.opts.requestTimeoutMs): Promise<boolean> {
    if (this.inFlight) return this.inFlight;
    if (this.queue.length === 0) return Promise.resolve(false);
    this.inFlight = this.post(Math.min(budgetMs, this.opts.requestTimeoutMs)).finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async post(timeoutMs: number): Promise<boolean> {
    const batch = this.queue.slice(0, this.opts.batchSize);
    const outcome = await postJson(this.opts.url, this.opts.headers, batch, timeoutMs, this.closing.signal);
    const delivered = 'ok' in outcome && outcome.ok;
    if (this.closing.signal.aborted && !delivered) return false;
    if ('error' in outcome)
      this.log.warn({ sink: this.name, err: outcome.error }, 'event sink unreachable; will retry');
    else if (!delivered)
      this.log.warn({ sink: this.name, status: outcome.status }, 'event sink refused a batch; will retry');
    if (delivered) {
      this.queue.splice(0, batch.length);
      this.backoff = this.opts.backoffMs;
      this.retryAtMs = 0;
      if (this.queue.length > 0) this.schedule(0);
    } else {
      this.retryAtMs = this.nowMs() + this.backoff;
      this.schedule(this.backoff);
      this.backoff = Math.min(this.opts.maxBackoffMs, this.backoff * 2);
    }
    return delivered;
  }
}

/** The `code` of a Node system error (`ENOSPC`), if it has one. */
function errorCode(err: unknown): string | undefined {
  return err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}
