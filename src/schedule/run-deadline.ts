import { setMaxListeners } from 'node:events';
import type { Clock } from '../clock.js';
import { RunDeadlineExceeded } from '../errors.js';

/**
 * The signal of one run: aborted with RunDeadlineExceeded after `timeoutMs`, or with the reason
 * of `parent` when that aborts first. `release` when the run is over (it frees the timer and the
 * listener on the parent).
 */
export function runDeadline(
  clock: Clock,
  timeoutMs: number,
  parent?: AbortSignal,
): { controller: AbortController; release: () => void } {
  const controller = new AbortController();
  // Every probe of a run (a ping's requests, a trace's hops) listens to this one signal.
  setMaxListeners(0, controller.signal);
  const cancelTimer = clock.setTimer(timeoutMs, () => controller.abort(new RunDeadlineExceeded(timeoutMs)));
  const onParentAbort = (): void => controller.abort(parent?.reason);
  if (parent?.aborted) onParentAbort();
  else parent?.addEventListener('abort', onParentAbort, { once: true });
  return {
    controller,
    release: () => {
      cancelTimer();
      parent?.removeEventListener('abort', onParentAbort);
    },
  };
}
