import { describe, expect, it } from 'vitest';
import { SkippedRunsLog } from '../../../src/agent/skipped-runs-log.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { captureLog } from '../../helpers/log-capture.js';

/** pino writes synchronously to a plain stream only after its own tick: let it. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('SkippedRunsLog', () => {
  it('logs the first skip at once and sums a storm into one line per window', async () => {
    const clock = new FakeClock();
    const { lines, log } = captureLog();
    const skips = new SkippedRunsLog(log, clock, 10_000);
    skips.skipped('first', 'missed', 1);
    for (let i = 0; i < 5_000; i++) skips.skipped(`check-${i % 1_200}`, i % 2 === 0 ? 'missed' : 'overlap', 1);
    await settle();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ check: 'first', reason: 'missed', count: 1, msg: 'runs skipped' });

    await clock.advance(10_000);
    await settle();
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({ runs: 5_000, checks: 1_200, reasons: { missed: 2_500, overlap: 2_500 } });
    expect(lines[1]?.['examples']).toEqual(['check-0', 'check-1', 'check-2', 'check-3', 'check-4']);

    // Skips in the next window are summed again; a window without any closes the series of lines.
    skips.skipped('late', 'queued', 3);
    await clock.advance(10_000);
    await clock.advance(10_000);
    await settle();
    expect(lines).toHaveLength(3);
    expect(lines[2]).toMatchObject({ runs: 3, checks: 1, reasons: { queued: 3 } });
    expect(clock.pendingTimers()).toBe(0);

    // Quiet again: the next skip is logged as it happens.
    skips.skipped('again', 'missed', 2);
    await settle();
    expect(lines).toHaveLength(4);
    expect(lines[3]).toMatchObject({ check: 'again', count: 2 });
  });

  it('reports what the open window holds when stopped, and leaves no timer', async () => {
    const clock = new FakeClock();
    const { lines, log } = captureLog();
    const skips = new SkippedRunsLog(log, clock, 10_000);
    skips.skipped('a', 'missed', 1);
    skips.skipped('b', 'missed', 4);
    skips.stop();
    await settle();
    expect(lines.map((line) => line['runs'] ?? line['count'])).toEqual([1, 4]);
    expect(clock.pendingTimers()).toBe(0);
  });
});
