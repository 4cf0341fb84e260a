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

export const systemClock: Clock = {
  monotonicNs: () => process.hrtime.bigint(),
  wallMs: () => Date.now(),
  setTimer(ms, fn) {
    const timer = setTimeout(fn, Math.max(0, ms));
    return () => clearTimeout(timer);
  },
};

/** Milliseconds (fractional) between two monotonic readings. */
export function elapsedMs(fromNs: bigint, toNs: bigint): number {
  return Number(toNs - fromNs) / 1e6;
}

/** Resolves after `ms` on `clock`, or rejects with the signal's reason when it aborts first. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      cancel();
      reject(signal?.reason);
    };
    const cancel = clock.setTimer(ms, () => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
