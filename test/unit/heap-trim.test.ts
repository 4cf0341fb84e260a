import { describe, expect, it } from 'vitest';
import { FIRST_TRIM_AFTER_MS, HeapTrim } from '../../src/agent/heap-trim.js';
import { FakeClock } from '../helpers/fake-clock.js';

/** A HeapTrim whose V8 notifications are noted with the clock's time (ms since the start). */
function setup(): { clock: FakeClock; trim: HeapTrim; at: number[]; counted: () => number } {
  const clock = new FakeClock();
  const start = clock.wallMs();
  const at: number[] = [];
  let count = 0;
  const trim = new HeapTrim(clock, { moderate: () => at.push(clock.wallMs() - start) }, () => count++);
  return { clock, trim, at, counted: () => count };
}

describe('HeapTrim', () => {
  it('trims 20 s after start, then every interval, and counts each', async () => {
    const { clock, trim, at, counted } = setup();
    trim.configure({ enabled: true, intervalMs: 300_000 });
    await clock.advance(FIRST_TRIM_AFTER_MS - 1);
    expect(at).toEqual([]);
    await clock.advance(2 * 300_000 + 1);
    expect(at).toEqual([20_000, 320_000, 620_000]);
    expect(counted()).toBe(3);
  });

  it('starts with the interval when it is shorter than the first wait', async () => {
    const { clock, trim, at } = setup();
    trim.configure({ enabled: true, intervalMs: 1_000 });
    await clock.advance(3_500);
    expect(at).toEqual([1_000, 2_000, 3_000]);
  });

  it('never trims when disabled, and stops when a reload disables it', async () => {
    const { clock, trim, at } = setup();
    trim.configure({ enabled: false, intervalMs: 300_000 });
    await clock.advance(1_000_000);
    expect(at).toEqual([]);
    expect(clock.pendingTimers()).toBe(0);

    trim.configure({ enabled: true, intervalMs: 300_000 });
    await clock.advance(FIRST_TRIM_AFTER_MS);
    trim.configure({ enabled: false, intervalMs: 300_000 });
    await clock.advance(1_000_000);
    expect(at).toEqual([1_000_000 + FIRST_TRIM_AFTER_MS]);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('keeps its timing across an unchanged reload; a new interval counts from the reload', async () => {
    const { clock, trim, at } = setup();
    trim.configure({ enabled: true, intervalMs: 300_000 });
    await clock.advance(100_000);
    trim.configure({ enabled: true, intervalMs: 300_000 });
    await clock.advance(250_000);
    expect(at).toEqual([20_000, 320_000]);
    trim.configure({ enabled: true, intervalMs: 60_000 });
    await clock.advance(60_000);
    expect(at).toEqual([20_000, 320_000, 410_000]);
  });

  it('stop cancels the next trim', async () => {
    const { clock, trim, at } = setup();
    trim.configure({ enabled: true, intervalMs: 300_000 });
    trim.stop();
    await clock.advance(1_000_000);
    expect(at).toEqual([]);
    expect(clock.pendingTimers()).toBe(0);
  });
});
