import type { Clock } from '../clock.js';

/** A callback may run this much before its time, as a libuv timer can against the monotonic clock. */
const EARLY_MS = 1;

interface Entry {
  at: number;
  seq: number;
  /** Undefined once run or cancelled. */
  fn: (() => void) | undefined;
}

/**
 * Many timers behind one: a Clock whose timers wait in one min-heap (by time, then by the order they
 * were set) while the underlying clock holds a single timer, for the earliest. Each interval check
 * waits for its next slot on a timer: 12,000 checks were 12,000 Node timers, each alone in a timer
 * list of its own (their delays all differ), about 650 bytes apiece with their closures; here a
 * waiting timer is one heap entry. Callbacks due together run in time order, each seeing the clock
 * as it is then; a timer set by one of them runs on a later turn, never in the same one (as with
 * setTimeout). Like a libuv timer, a callback may run up to EARLY_MS before its time.
 */
export class TimerQueue implements Clock {
  private heap: Entry[] = [];
  private seq = 0;
  private live = 0;
  /** When the underlying timer is due (monotonic ms), and how to cancel it. */
  private armed: { at: number; cancel: () => void } | undefined;

  constructor(private readonly clock: Clock) {}

  monotonicNs(): bigint {
    return this.clock.monotonicNs();
  }

  wallMs(): number {
    return this.clock.wallMs();
  }

  /** Timers set and neither run nor cancelled. */
  get size(): number {
    return this.live;
  }

  setTimer(ms: number, fn: () => void): () => void {
    const entry: Entry = { at: this.nowMs() + Math.max(0, ms), seq: this.seq++, fn };
    this.push(entry);
    this.live++;
    this.arm();
    return () => {
      if (!entry.fn) return;
      entry.fn = undefined;
      this.live--;
      if (this.live === 0) {
        // Nothing waits: no timer of ours may keep the process alive or a test's clock busy.
        this.armed?.cancel();
        this.armed = undefined;
        this.heap = [];
      }
    };
  }

  private nowMs(): number {
    return Number(this.clock.monotonicNs()) / 1e6;
  }

  /** Arms the underlying timer for the earliest waiting entry, unless it is armed for that already. */
  private arm(): void {
    while (this.heap.length > 0 && !this.heap[0]!.fn) this.pop();
    const next = this.heap[0];
    if (!next || (this.armed && this.armed.at <= next.at)) return;
    this.armed?.cancel();
    const at = next.at;
    this.armed = { at, cancel: this.clock.setTimer(Math.max(0, at - this.nowMs()), () => this.fire(at)) };
  }

  private fire(at: number): void {
    if (this.armed?.at === at) this.armed = undefined;
    const due: Array<() => void> = [];
    const limit = this.nowMs() + EARLY_MS;
    while (this.heap.length > 0 && this.heap[0]!.at <= limit) {
      const entry = this.pop()!;
      if (!entry.fn) continue;
      due.push(entry.fn);
      entry.fn = undefined;
      this.live--;
    }
    for (const fn of due) {
      try {
        fn();
      } catch (err) {
        // As with Node's own timers: the error is uncaught, the other callbacks still run.
        queueMicrotask(() => {
          throw err;
        });
      }
    }
    this.arm();
  }

  private push(entry: Entry): void {
    const heap = this.heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(entry, heap[parent]!)) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = entry;
  }

  private pop(): Entry | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length === 0 || !last) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= heap.length) break;
      const r = l + 1;
      const child = r < heap.length && before(heap[r]!, heap[l]!) ? r : l;
      if (!before(heap[child]!, last)) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = last;
    return top;
  }
}

function before(a: Entry, b: Entry): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
