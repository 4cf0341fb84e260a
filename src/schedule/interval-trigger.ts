import type { Clock } from '../clock.js';
import { TimerQueue } from './timer-queue.js';
import type { RepeatingTimer } from './timer-queue.js';
import type { Timers, Trigger } from './trigger.js';

/** Firing this much early is accepted: re-arming would round up to a whole millisecond late. */
const EARLY_TOLERANCE_NS = 1_000_000n;

/**
 * Fires at wall-clock slots `offset + k * interval`, planned on the monotonic clock. Each slot is
 * computed from the first one, never from when the previous timer happened to fire, so lateness does
 * not accumulate (drift-free). Slots missed entirely (event loop blocked for longer than an
 * interval) are reported, not replayed in a burst.
 */
export class IntervalTrigger implements Trigger {
  private timer: RepeatingTimer | undefined;
  private nextNs = 0n;
  private readonly intervalNs: bigint;

  constructor(
    private readonly clock: Clock,
    private readonly intervalMs: number,
    private readonly offsetMs: number,
  ) {
    this.intervalNs = BigInt(Math.round(intervalMs * 1e6));
  }

  start(
    onFire: (plannedNs: bigint) => void,
    onMissed: (slots: number) => void,
    timers: Timers = new TimerQueue(this.clock),
  ): void {
    const wall = this.clock.wallMs();
    const sinceSlot = (((wall - this.offsetMs) % this.intervalMs) + this.intervalMs) % this.intervalMs;
    const untilFirstMs = sinceSlot === 0 ? 0 : this.intervalMs - sinceSlot;
    this.nextNs = this.clock.monotonicNs() + BigInt(Math.round(untilFirstMs * 1e6));
    const timer = timers.repeating(() => {
      // libuv measures timers from a cached loop time, so they can fire a little before the
      // monotonic clock reaches the slot: not due yet, wait again.
      if (this.nextNs - this.clock.monotonicNs() > EARLY_TOLERANCE_NS) {
        arm();
        return;
      }
      const planned = this.nextNs;
      this.nextNs += this.intervalNs;
      const now = this.clock.monotonicNs();
      if (this.nextNs <= now) {
        const missed = (now - this.nextNs) / this.intervalNs + 1n;
        this.nextNs += missed * this.intervalNs;
        onMissed(Number(missed));
      }
      arm();
      onFire(planned);
    });
    const arm = (): void => timer.set(Number(this.nextNs - this.clock.monotonicNs()) / 1e6);
    this.timer = timer;
    arm();
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }
}
