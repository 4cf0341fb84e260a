import { describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { untilLoopQuiet } from '../../src/net/loop-quiet.js';

/** Keeps this thread busy for `ms`, as a socket teardown's callbacks would. */
function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

/** Runs `busy(ms)` on each of the next `turns` turns of the loop (all of them when Infinity). */
function busyTurns(turns: number, ms: number): { ran: () => number; stop: () => void } {
  let ran = 0;
  let stopped = false;
  const next = (): void => {
    if (stopped || ran >= turns) return;
    busy(ms);
    ran++;
    setImmediate(next);
  };
  setImmediate(next);
  return { ran: () => ran, stop: () => void (stopped = true) };
}

describe('untilLoopQuiet', () => {
  it('resolves only after the work queued on the loop has run', async () => {
    const work = busyTurns(6, 1);
    await untilLoopQuiet(systemClock);
    expect(work.ran()).toBe(6);
  });

  it('gives up on a loop that is never quiet, after a bounded number of turns', async () => {
    const work = busyTurns(Infinity, 0.5);
    try {
      await untilLoopQuiet(systemClock);
      // Every turn it waited had work in it; it stopped at its bound, long before this test's timeout.
      expect(work.ran()).toBeGreaterThanOrEqual(30);
      expect(work.ran()).toBeLessThanOrEqual(45);
    } finally {
      work.stop();
    }
  });
});
