import type { Clock } from '../clock.js';

/** A callback may run this much before its time, as a libuv timer can against the monotonic clock. */
const EARLY_MS = 1;

interface Entry {
  at: number;
  seq: number;
  /** Undefined once run or cancelled. */
  fn: (() => void) | undefined;
  /** In the heap (run or cancelled ones stay there until popped). */
  queued: boolean;
}

/** A timer set again and again with one callback (an interval check's next slot). */
export interface RepeatingTimer {
  /** Runs the callback `ms` from now, instead of at the time set before if that has not come. */
  set(ms: number): void;
  cancel(): void;
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
    const entry: Entry = { at: 0, seq: 0, fn, queued: false };
    this.add(entry, ms);
    return () => this.drop(entry);
  }

  /**
   * One entry for all the times a callback is set, where setTimer makes an entry, a cancel closure
   * and the caller a callback each time: at 1,200 runs a second those lived an interval each, and
   * were a quarter of what the agent's thread promoted to the old generation (a sampling heap
   * profile of what outlived the scavenges). The entry is made again only when set while its last
   * time is still in the heap.
   */
  repeating(fn: () => void): RepeatingTimer {
    let entry: Entry | undefined;
    return {
      set: (ms) => {
        if (entry) this.drop(entry);
        if (!entry || entry.queued) entry = { at: 0, seq: 0, fn, queued: false };
        entry.fn = fn;
        this.add(entry, ms);
      },
      cancel: () => {
        if (entry) this.drop(entry);
      },
    };
  }

  private add(entry: Entry, ms: number): void {
    entry.at = this.nowMs() + Math.max(0, ms);
    entry.seq = this.seq++;
    this.push(entry);
    this.live++;
    this.arm();
  }

  /** Cancels `entry` unless it has run or was cancelled. */
  private drop(entry: Entry): void {
    if (!entry.fn) return;
    entry.fn = undefined;
    this.live--;
    if (this.live === 0) {
      // Nothing waits: no timer of ours may keep the process alive or a test's clock busy.
      this.armed?.cancel();
      this.armed = undefined;
      for (const left of this.heap) left.queued = false;
      this.heap = [];
    }
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
    const due: Entry[] = [];
    const limit = this.nowMs() + EARLY_MS;
    while (this.heap.length > 0 && this.heap[0]!.at <= limit) {
      const entry = this.pop()!;
      if (entry.fn) due.push(entry);
    }
    for (const entry of due) {
      // Cancelled by a callback before it in this turn, or set again (queued once more): not now, as
      // clearTimeout stops a Node timer due in the same turn.
      const fn = entry.fn;
      if (!fn || entry.queued) continue;
      entry.fn = undefined;
      this.live--;
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
    entry.queued = true;
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
    if (top) top.queued = false;
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
