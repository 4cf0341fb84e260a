import { describe, expect, it } from 'vitest';
import { TimerQueue } from '../../src/schedule/timer-queue.js';
import { FakeClock } from '../helpers/fake-clock.js';

/** A queue on a fake clock, and `at(name)`: a callback noting its name and the ms since the start in `ran`. */
function recordingQueue(): {
  clock: FakeClock;
  timers: TimerQueue;
  ran: Array<[string, number]>;
  at: (name: string) => () => void;
} {
  const clock = new FakeClock();
  const timers = new TimerQueue(clock);
  const start = clock.wallMs();
  const ran: Array<[string, number]> = [];
  return { clock, timers, ran, at: (name) => () => ran.push([name, clock.wallMs() - start]) };
}

describe('TimerQueue', () => {
  it('keeps one timer of its clock however many wait, and none once all are cancelled', async () => {
    const clock = new FakeClock();
    const timers = new TimerQueue(clock);
    const cancels = Array.from({ length: 1_000 }, (_, i) => timers.setTimer(10 + (i % 97) * 0.37, () => undefined));
    expect(clock.pendingTimers()).toBe(1);
    expect(timers.size).toBe(1_000);
    for (const cancel of cancels) cancel();
    expect(clock.pendingTimers()).toBe(0);
    expect(timers.size).toBe(0);
  });

  it('runs callbacks in time order, then in the order they were set, each at its time', async () => {
    const { clock, timers, ran, at } = recordingQueue();
    timers.setTimer(30, at('c'));
    timers.setTimer(10, at('a'));
    timers.setTimer(20, at('b1'));
    timers.setTimer(20, at('b2'));
    const cancelled = timers.setTimer(15, at('never'));
    cancelled();
    await clock.advance(100);
    expect(ran).toEqual([
      ['a', 10],
      ['b1', 20],
      ['b2', 20],
      ['c', 30],
    ]);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('runs a timer set by a callback on a later turn, even when it is due at once', async () => {
    const clock = new FakeClock();
    const timers = new TimerQueue(clock);
    const ran: string[] = [];
    timers.setTimer(5, () => {
      ran.push('first');
      timers.setTimer(0, () => ran.push('set by first'));
      expect(ran).toEqual(['first']);
    });
    timers.setTimer(5, () => ran.push('second'));
    await clock.advance(10);
    expect(ran).toEqual(['first', 'second', 'set by first']);
  });

  it('runs what is due within a millisecond when its clock fires early, as a libuv timer does', async () => {
    const clock = new FakeClock();
    // A clock whose timers fire 0.6 ms early.
    const early = Object.assign(Object.create(clock) as FakeClock, {
      setTimer: (ms: number, fn: () => void) => clock.setTimer(ms - 0.6, fn),
    });
    const timers = new TimerQueue(early);
    let ranAt: number | undefined;
    timers.setTimer(10, () => (ranAt = clock.wallMs() - Date.UTC(2026, 0, 1)));
    await clock.advance(20);
    expect(ranAt).toBeCloseTo(9.4, 2);
  });

  it('keeps running the others when a callback throws, and reports the error as uncaught', async () => {
    const clock = new FakeClock();
    const timers = new TimerQueue(clock);
    const ran: string[] = [];
    const uncaught: unknown[] = [];
    const original = globalThis.queueMicrotask;
    globalThis.queueMicrotask = (fn) =>
      original(() => {
        try {
          fn();
        } catch (err) {
          uncaught.push(err);
        }
      });
    try {
      timers.setTimer(1, () => {
        throw new Error('boom');
      });
      timers.setTimer(1, () => ran.push('after'));
      timers.setTimer(2, () => ran.push('later'));
      await clock.advance(5);
    } finally {
      globalThis.queueMicrotask = original;
    }
    expect(ran).toEqual(['after', 'later']);
    expect(uncaught).toEqual([new Error('boom')]);
  });
  it('runs a repeating timer at each time it is set, the last time set winning, none after cancel', async () => {
    const clock = new FakeClock();
    const timers = new TimerQueue(clock);
    const start = clock.wallMs();
    const ran: number[] = [];
    let again = true;
    const timer = timers.repeating(() => {
      ran.push(clock.wallMs() - start);
      // Set again from its own callback, as an interval trigger does.
      if (again) timer.set(10);
    });
    timer.set(10);
    await clock.advance(35);
    expect(ran).toEqual([10, 20, 30]);
    expect(timers.size).toBe(1);

    // Set while its time is still in the heap: the new time replaces it.
    timer.set(2);
    timer.set(4);
    expect(timers.size).toBe(1);
    again = false;
    await clock.advance(10);
    expect(ran).toEqual([10, 20, 30, 39]);

    timer.set(5);
    timer.cancel();
    expect(timers.size).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
    await clock.advance(10);
    expect(ran).toHaveLength(4);

    // Usable again after a cancel, beside one-off timers.
    const other: string[] = [];
    timers.setTimer(3, () => other.push('once'));
    timer.set(1);
    await clock.advance(5);
    expect(ran).toEqual([10, 20, 30, 39, 56]);
    expect(other).toEqual(['once']);
  });
  it('moves a repeating timer set again while queued, without holding back what is due before it', async () => {
    const { clock, timers, ran, at } = recordingQueue();
    const timer = timers.repeating(at('repeating'));
    timer.set(2);
    timers.setTimer(5, at('once'));
    timer.set(10);
    await clock.advance(20);
    expect(ran).toEqual([
      ['once', 5],
      ['repeating', 10],
    ]);
  });
  it('does not run a timer that a callback due in the same turn cancelled or set again', async () => {
    const { clock, timers, ran, at } = recordingQueue();
    const repeating = timers.repeating(at('repeating'));
    timers.setTimer(5, () => {
      cancelLater();
      repeating.set(10);
    });
    const cancelLater = timers.setTimer(5, at('cancelled'));
    repeating.set(5);
    await clock.advance(20);
    expect(ran).toEqual([['repeating', 15]]);
    expect(timers.size).toBe(0);
  });
});
