/**
 * Runs `fn` no sooner than `ms` after this call, measured on the monotonic clock.
 *
 * A bare setTimeout is not enough for a lab's ground truth: libuv counts timers in whole
 * milliseconds from a truncated "now", so setTimeout(fn, 50) fires up to 1 ms early (seen here:
 * 49.91 ms). The lab promises "at least this delay"; late is fine, early would make it a lie.
 */
export function afterAtLeast(ms: number, fn: () => void): void {
  const due = performance.now() + ms;
  const check = (): void => {
    const left = due - performance.now();
    if (left > 0) setTimeout(check, Math.ceil(left));
    else fn();
  };
  setTimeout(check, ms);
}
