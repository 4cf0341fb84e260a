/**
 * Time as the agent sees it. Measuring uses the monotonic clock only (`process.hrtime`); the wall
 * clock only labels results and aligns schedules. Timers decide when to act, never what to measure:
 * libuv timers fire late by a fraction of a millisecond (FIELD-NOTES).
 */
export interface Clock {
  /** Monotonic nanoseconds, comparable only with other readings of the same clock. */
  monotonicNs(): bigint;
  /** Wall-clock milliseconds since the Unix epoch. */
  wallMs(): number;
  /** Calls `fn` after `ms`; the returned function cancels it. */
  setTimer(ms: number, fn: () => void): () => void;
}

/** setTimeout turns anything above 2^31 - 1 ms into 1 ms: longer waits are made of several. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export const systemClock: Clock = {
  monotonicNs: () => process.hrtime.bigint(),
  wallMs: () => Date.now(),
  setTimer(ms, fn) {
    let timer: NodeJS.Timeout;
    const arm = (remaining: number): void => {
      timer = setTimeout(
        () => (remaining > MAX_TIMER_MS ? arm(remaining - MAX_TIMER_MS) : fn()),
        Math.min(Math.max(0, remaining), MAX_TIMER_MS),
      );
    };
    arm(ms);
    return () => clearTimeout(timer);
  },
};

/** Milliseconds (fractional) between two monotonic readings. */
export function elapsedMs(fromNs: bigint, toNs: bigint): number {
  return Number(toNs - fromNs) / 1e6;
}

/** Waits `ms` on `clock`; resolves early (never rejects) when `signal` aborts. */
export function pause(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const done = (): void => {
      signal?.removeEventListener('abort', done);
      cancel();
      resolve();
    };
    const cancel = clock.setTimer(ms, done);
    signal?.addEventListener('abort', done, { once: true });
  });
}
