import type { Clock } from '../../src/clock.js';

interface PendingTimer {
  at: number;
  seq: number;
  fn: () => void;
}

/**
 * A clock that only moves when told to. Monotonic and wall time advance together; timers fire in
 * time order during `advance`, each seeing the clock at its own due time.
 */
export class FakeClock implements Clock {
  private nowMs: number;
  private readonly startWallMs: number;
  private timers: PendingTimer[] = [];
  private seq = 0;

  constructor(
    startWallMs = Date.UTC(2026, 0, 1),
    private readonly monoOffsetMs = 1_000_000,
  ) {
    this.nowMs = startWallMs;
    this.startWallMs = startWallMs;
  }

  monotonicNs(): bigint {
    return BigInt(Math.round((this.nowMs - this.startWallMs + this.monoOffsetMs) * 1e6));
  }

  wallMs(): number {
    return this.nowMs;
  }

  setTimer(ms: number, fn: () => void): () => void {
    const timer = { at: this.nowMs + Math.max(0, ms), seq: this.seq++, fn };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }

  /** Moves time forward by `ms`, firing due timers in order (and letting promises settle). */
  async advance(ms: number, stepDelayMs = 0): Promise<void> {
    const end = this.nowMs + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers[0];
      if (!next || next.at > end) break;
      this.timers.shift();
      this.nowMs = Math.max(this.nowMs, next.at + stepDelayMs);
      next.fn();
      await flushPromises();
    }
    this.nowMs = end;
    await flushPromises();
  }

  pendingTimers(): number {
    return this.timers.length;
  }
}

export async function flushPromises(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
  await new Promise<void>((resolve) => setImmediate(resolve));
}
