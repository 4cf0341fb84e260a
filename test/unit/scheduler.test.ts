import { describe, expect, it } from 'vitest';
import { RunCancelled, RunDeadlineExceeded } from '../../src/errors.js';
import { IntervalTrigger } from '../../src/schedule/interval-trigger.js';
import { phaseOffsetMs } from '../../src/schedule/offset.js';
import { Scheduler } from '../../src/schedule/scheduler.js';
import type { Job, SkipReason } from '../../src/schedule/scheduler.js';
import { TimerQueue } from '../../src/schedule/timer-queue.js';
import { FakeClock, flushPromises } from '../helpers/fake-clock.js';

const T0 = Date.UTC(2026, 0, 1); // a multiple of every interval used here

describe('phaseOffsetMs', () => {
  it('is deterministic and inside the interval', () => {
    expect(phaseOffsetMs('agent-a', 'web-tcp', 30_000)).toBe(phaseOffsetMs('agent-a', 'web-tcp', 30_000));
    for (let i = 0; i < 100; i++) {
      const offset = phaseOffsetMs(`agent-${i}`, 'web-tcp', 30_000);
      expect(offset).toBeGreaterThanOrEqual(0);
      expect(offset).toBeLessThan(30_000);
    }
  });

  it('spreads a fleet of agents evenly over the interval', () => {
    const buckets = new Array<number>(10).fill(0);
    for (let i = 0; i < 2000; i++) {
      const offset = phaseOffsetMs(`vantage-${i}`, 'web-tcp', 30_000);
      buckets[Math.floor(offset / 3000)]! += 1;
    }
    for (const count of buckets) expect(count).toBeGreaterThan(140); // 200 expected per bucket
  });
});

describe('IntervalTrigger', () => {
  it('fires at offset + k * interval of wall time, planned exactly, without drift', async () => {
    const clock = new FakeClock(T0 + 1_000);
    const trigger = new IntervalTrigger(clock, 10_000, 2_500);
    const planned: bigint[] = [];
    const firedAt: number[] = [];
    trigger.start(
      (p) => {
        planned.push(p);
        firedAt.push(clock.wallMs());
      },
      () => undefined,
    );
    // Every timer fires 3 ms late; the schedule must not accumulate it.
    await clock.advance(50_000, 3);
    trigger.stop();
    expect(firedAt.map((t) => t - T0)).toEqual([2_503, 12_503, 22_503, 32_503, 42_503]);
    const gaps = planned.slice(1).map((p, i) => Number(p - planned[i]!) / 1e6);
    expect(gaps).toEqual([10_000, 10_000, 10_000, 10_000]);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('reports slots missed while the process was stalled instead of replaying them', async () => {
    const clock = new FakeClock(T0);
    const trigger = new IntervalTrigger(clock, 1_000, 0);
    let fired = 0;
    const missed: number[] = [];
    trigger.start(
      () => fired++,
      (n) => missed.push(n),
    );
    await clock.advance(0);
    expect(fired).toBe(1);
    await clock.advance(1_000, 2_500); // the next timer runs 2.5 s late
    expect(missed).toEqual([2]);
    expect(fired).toBe(2);
    trigger.stop();
  });
});

/** A job whose runs finish only when the test says so. */
function manualJob(clock: FakeClock, name: string, intervalMs: number, timeoutMs = intervalMs / 2) {
  const runs: Array<{ signal: AbortSignal; finish: () => void; startedAt: number }> = [];
  const job: Job = {
    name,
    timeoutMs,
    trigger: new IntervalTrigger(clock, intervalMs, 0),
    run: (signal) =>
      new Promise<void>((resolve) => {
        runs.push({ signal, finish: resolve, startedAt: clock.wallMs() });
      }),
  };
  return { job, runs };
}

function recordingScheduler(clock: FakeClock, maxConcurrent: number) {
  const lags: number[] = [];
  const skips: Array<[string, SkipReason, number]> = [];
  const scheduler = new Scheduler(clock, maxConcurrent, {
    started: (_job, lag) => lags.push(lag),
    skipped: (job, reason, count) => skips.push([job.name, reason, count]),
  });
  return { scheduler, lags, skips };
}

describe('Scheduler', () => {
  it('waits for every job on one timer, and each still runs at its own slot', async () => {
    const clock = new FakeClock(T0);
    const { scheduler, lags } = recordingScheduler(clock, 100);
    const started: Array<[string, number]> = [];
    for (let i = 0; i < 100; i++) {
      const name = `job-${i}`;
      scheduler.add({
        name,
        timeoutMs: 500,
        trigger: new IntervalTrigger(clock, 1_000, i * 7.3),
        run: async () => void started.push([name, clock.wallMs() - T0]),
      });
    }
    expect(clock.pendingTimers()).toBe(1);
    await clock.advance(999);
    expect(started).toHaveLength(100);
    started.forEach(([name, at]) => expect(at).toBeCloseTo(Number(name.slice(4)) * 7.3, 3));
    expect(Math.max(...lags)).toBeLessThan(0.001);
    await scheduler.stop(0);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('never overlaps runs of one job and counts the skipped slot', async () => {
    const clock = new FakeClock(T0);
    const { scheduler, skips } = recordingScheduler(clock, 10);
    const { job, runs } = manualJob(clock, 'slow', 1_000, 900);
    scheduler.add(job);
    await clock.advance(0);
    expect(runs).toHaveLength(1);
    // The deadline fires at 900 ms but the run ignores it and keeps going past the next slot.
    await clock.advance(1_000);
    expect(runs).toHaveLength(1);
    expect(skips).toEqual([['slow', 'overlap', 1]]);
    runs[0]!.finish();
    await flushPromises();
    await clock.advance(1_000);
    expect(runs).toHaveLength(2);
    runs[1]!.finish();
    await scheduler.stop(0);
  });

  it('aborts a run at its deadline with RunDeadlineExceeded', async () => {
    const clock = new FakeClock(T0);
    const { scheduler } = recordingScheduler(clock, 10);
    const { job, runs } = manualJob(clock, 'hang', 10_000, 2_500);
    scheduler.add(job);
    await clock.advance(2_499);
    expect(runs[0]!.signal.aborted).toBe(false);
    await clock.advance(1);
    expect(runs[0]!.signal.reason).toBeInstanceOf(RunDeadlineExceeded);
    runs[0]!.finish();
    await scheduler.stop(0);
  });

  it('caps concurrent runs; queued runs start in order and their lag shows the wait', async () => {
    const clock = new FakeClock(T0);
    const { scheduler, lags } = recordingScheduler(clock, 2);
    const jobs = ['a', 'b', 'c', 'd'].map((n) => manualJob(clock, n, 60_000, 30_000));
    for (const { job } of jobs) scheduler.add(job);
    await clock.advance(0);
    expect(jobs.map((j) => j.runs.length)).toEqual([1, 1, 0, 0]);
    await clock.advance(200);
    jobs[0]!.runs[0]!.finish();
    await flushPromises();
    expect(jobs.map((j) => j.runs.length)).toEqual([1, 1, 1, 0]);
    await clock.advance(300);
    jobs[1]!.runs[0]!.finish();
    await flushPromises();
    expect(jobs.map((j) => j.runs.length)).toEqual([1, 1, 1, 1]);
    expect(lags).toEqual([0, 0, 200, 500]);
    for (const j of jobs.slice(2)) j.runs[0]!.finish();
    await scheduler.stop(0);
  });

  it('stop cancels runs in flight and waits for them within the deadline', async () => {
    const clock = new FakeClock(T0);
    const { scheduler } = recordingScheduler(clock, 10);
    const { job, runs } = manualJob(clock, 'a', 60_000, 30_000);
    scheduler.add(job);
    await clock.advance(0);
    const stopped = scheduler.stop(5_000);
    expect(runs[0]!.signal.reason).toBeInstanceOf(RunCancelled);
    runs[0]!.finish();
    await expect(stopped).resolves.toBe(true);
    expect(clock.pendingTimers()).toBe(0);
    expect(() => scheduler.add(manualJob(clock, 'late', 1_000).job)).toThrow(/stopping/);
  });

  it('stop gives up on a run that ignores cancellation after the deadline', async () => {
    const clock = new FakeClock(T0);
    const { scheduler } = recordingScheduler(clock, 10);
    const { job } = manualJob(clock, 'stubborn', 60_000, 30_000);
    scheduler.add(job);
    await clock.advance(0);
    const stopped = scheduler.stop(5_000);
    await clock.advance(5_000);
    await expect(stopped).resolves.toBe(false);
  });

  it('remove stops the trigger and cancels the run; other jobs go on', async () => {
    const clock = new FakeClock(T0);
    const { scheduler } = recordingScheduler(clock, 10);
    const a = manualJob(clock, 'a', 1_000, 500);
    const b = manualJob(clock, 'b', 1_000, 500);
    scheduler.add(a.job);
    scheduler.add(b.job);
    await clock.advance(0);
    let removedYet = false;
    const removed = scheduler.remove('a').then(() => (removedYet = true));
    expect(a.runs[0]!.signal.reason).toBeInstanceOf(RunCancelled);
    await clock.advance(0);
    // It waits for the run in flight to end.
    expect(removedYet).toBe(false);
    a.runs[0]!.finish();
    b.runs[0]!.finish();
    await removed;
    await clock.advance(3_000);
    expect(a.runs).toHaveLength(1);
    expect(b.runs.length).toBeGreaterThanOrEqual(2);
    expect(scheduler.names()).toEqual(['b']);
    for (const r of b.runs) r.finish();
    await scheduler.stop(0);
  });
});

describe('IntervalTrigger against early timers', () => {
  it('does nothing once stopped by a callback due in the same turn', async () => {
    const clock = new FakeClock(T0);
    const timers = new TimerQueue(clock);
    const trigger = new IntervalTrigger(clock, 1_000, 500);
    const fired: number[] = [];
    // Set first, so it runs first of the two due at 500 ms, after both were taken as due.
    timers.setTimer(500, () => trigger.stop());
    trigger.start(
      () => fired.push(clock.wallMs() - T0),
      () => undefined,
      timers,
    );
    await clock.advance(3_000);
    expect(fired).toEqual([]);
    expect(timers.size).toBe(0);
  });

  it('waits again when a timer fires before the slot, and never fires before it', async () => {
    const clock = new FakeClock(T0);
    // Timers that fire up to 2 ms early (half the delay for short ones), as libuv's can against hrtime.
    const early: typeof clock = Object.assign(Object.create(clock) as FakeClock, {
      setTimer: (ms: number, fn: () => void) => clock.setTimer(ms - Math.min(2, ms / 2), fn),
    });
    const trigger = new IntervalTrigger(early, 1_000, 500);
    const firedAt: number[] = [];
    trigger.start(
      () => firedAt.push(clock.wallMs() - T0),
      () => undefined,
    );
    await clock.advance(3_000);
    trigger.stop();
    expect(firedAt).toHaveLength(3);
    firedAt.forEach((t, k) => {
      expect(t).toBeGreaterThanOrEqual(500 + k * 1_000 - 1);
      expect(t).toBeLessThanOrEqual(500 + k * 1_000);
    });
  });
});
