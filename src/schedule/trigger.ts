import type { RepeatingTimer } from './timer-queue.js';

/** Where triggers wait: the scheduler's TimerQueue (one timer for every job) or one of their own. */
export interface Timers {
  repeating(fn: () => void): RepeatingTimer;
}

/** Decides when a job fires. `plannedNs` is the monotonic time the run was due. */
export interface Trigger {
  /**
   * Starts firing. `timers`, when given, is where to wait (the scheduler's TimerQueue: one timer for
   * every job); its clock is the trigger's own.
   */
  start(onFire: (plannedNs: bigint) => void, onMissed: (slots: number) => void, timers?: Timers): void;
  stop(): void;
}
