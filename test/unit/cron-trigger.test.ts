import { describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { CronTrigger } from '../../src/schedule/cron-trigger.js';

// node-cron is required on the trigger's first start, not at import: this runs the real package.
describe('CronTrigger', () => {
  it('fires on the cron slot with the planned time on the monotonic clock, and not after stop', async () => {
    const trigger = new CronTrigger(systemClock, '* * * * * *');
    const fired: bigint[] = [];
    const first = new Promise<void>((resolve) => {
      trigger.start(
        (plannedNs) => {
          fired.push(plannedNs);
          resolve();
        },
        () => undefined,
      );
    });
    try {
      await first;
    } finally {
      trigger.stop();
    }
    const nowNs = systemClock.monotonicNs();
    expect(fired[0]).toBeLessThanOrEqual(nowNs);
    // The slot is a whole second of wall time; it fired within that second (a loaded machine: < 1 s late).
    expect(Number(nowNs - (fired[0] ?? 0n)) / 1e6).toBeLessThan(1_000);
    const count = fired.length;
    await new Promise((r) => setTimeout(r, 1_200));
    expect(fired).toHaveLength(count);
  }, 5_000);

  it('throws a bad expression at start, from node-cron itself', () => {
    expect(() =>
      new CronTrigger(systemClock, 'not a cron').start(
        () => undefined,
        () => undefined,
      ),
    ).toThrow();
  });
});
