import type { Clock } from '../clock.js';
import { elapsedMs } from '../clock.js';
import { RunCancelled } from '../errors.js';
import { runDeadline } from './run-deadline.js';
import { Semaphore } from './semaphore.js';
import { TimerQueue } from './timer-queue.js';
import type { Trigger } from './trigger.js';

/** Something the scheduler runs. It knows nothing of checks: a name, a deadline, a run. */
export interface RunSpec {
  readonly name: string;
  readonly timeoutMs: number;
  /** One run. The signal fires at the deadline (`RunDeadlineExceeded`) or on cancel (`RunCancelled`). */
  run(signal: AbortSignal): Promise<void>;
}

/** A run spec with a trigger that says when to run it. */
export interface Job extends RunSpec {
  readonly trigger: Trigger;
}

/**
 * overlap: the previous run was still going; queued: it was still waiting for a run slot;
 * missed: the process was stalled.
 */
export const SKIP_REASONS = ['overlap', 'queued', 'missed'] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

export interface SchedulerEvents {
  /** A run started `lagMs` after it was due (timer lateness plus waiting for a concurrency slot). */
  started?(job: RunSpec, lagMs: number): void;
  /** Runs that did not happen (see SkipReason). */
  skipped?(job: RunSpec, reason: SkipReason, count: number): void;
  /** `run` threw: a bug in the job, never a probe failure. */
  failed?(job: RunSpec, err: unknown): void;
}

interface JobState {
  job: RunSpec;
  trigger?: Trigger;
  busy: boolean;
  /** Waiting for a run slot (max_concurrent_runs). */
  queued: boolean;
  removed: boolean;
  controller?: AbortController;
  /** Called when the job is no longer busy (set by remove() to wait for its run in flight). */
  idle?: () => void;
}

/**
 * Owns every job's timing: no overlapping runs of one job, a deadline per run as an AbortSignal,
 * a global cap on concurrent runs, and a graceful stop.
 */
export class Scheduler {
  private readonly jobs = new Map<string, JobState>();
  private readonly slots: Semaphore;
  /** Every job's trigger waits here: one timer for all of them (see TimerQueue). */
  private readonly timers: TimerQueue;
  private stopping = false;

  constructor(
    private readonly clock: Clock,
    maxConcurrent: number,
    private readonly events: SchedulerEvents = {},
  ) {
    this.slots = new Semaphore(maxConcurrent);
    this.timers = new TimerQueue(clock);
  }

  setMaxConcurrent(limit: number): void {
    this.slots.setLimit(limit);
  }

  names(): string[] {
    return [...this.jobs.keys()];
  }

  add(job: Job): void {
    if (this.stopping) throw new Error('scheduler is stopping');
    if (this.jobs.has(job.name)) throw new Error(`job ${job.name} is already scheduled`);
    const state: JobState = { job, trigger: job.trigger, busy: false, queued: false, removed: false };
    this.jobs.set(job.name, state);
    job.trigger.start(
      (plannedNs) => void this.fire(state, plannedNs),
      (count) => this.events.skipped?.(job, 'missed', count),
      this.timers,
    );
  }

  /** Stops scheduling a job and cancels its run in flight; resolves when that run has ended. */
  async remove(name: string, reason = 'the check was removed from the config'): Promise<void> {
    const state = this.jobs.get(name);
    if (!state) return;
    this.jobs.delete(name);
    state.removed = true;
    state.trigger?.stop();
    state.controller?.abort(new RunCancelled(reason));
    if (state.busy) await new Promise<void>((resolve) => (state.idle = resolve));
  }

  /**
   * Stops all triggers, cancels runs in flight and waits for them up to `deadlineMs`.
   * Resolves true when every run ended in time.
   */
  async stop(deadlineMs: number): Promise<boolean> {
    this.stopping = true;
    const pending = [...this.jobs.keys()].map((name) => this.remove(name, 'the agent is shutting down'));
    let cancelTimer: (() => void) | undefined;
    const timedOut = new Promise<false>((resolve) => {
      cancelTimer = this.clock.setTimer(deadlineMs, () => resolve(false));
    });
    const done = await Promise.race([Promise.all(pending).then(() => true as const), timedOut]);
    cancelTimer?.();
    return done;
  }

  /** Runs one job now, outside its schedule (used by `vantage once`); honours the concurrency cap. */
  async runNow(job: RunSpec): Promise<void> {
    const state: JobState = { job, busy: false, queued: false, removed: false };
    await this.execute(state, this.clock.monotonicNs());
  }

  private async fire(state: JobState, plannedNs: bigint): Promise<void> {
    if (state.busy) {
      this.events.skipped?.(state.job, state.queued ? 'queued' : 'overlap', 1);
      return;
    }
    await this.execute(state, plannedNs);
  }

  /**
   * One run. A promise to wait on is made only when something waits: remove() for the run's end, a
   * run for a slot when none is free (1,200 runs a second otherwise made both for nothing).
   */
  private async execute(state: JobState, plannedNs: bigint): Promise<void> {
    state.busy = true;
    state.queued = true;
    if (!this.slots.tryAcquire()) await this.slots.acquire();
    state.queued = false;
    try {
      if (state.removed) return;
      this.events.started?.(state.job, elapsedMs(plannedNs, this.clock.monotonicNs()));
      const { controller, release } = runDeadline(this.clock, state.job.timeoutMs);
      state.controller = controller;
      try {
        await state.job.run(controller.signal);
      } catch (err) {
        this.events.failed?.(state.job, err);
      } finally {
        release();
        state.controller = undefined;
      }
    } finally {
      this.slots.release();
      state.busy = false;
      state.idle?.();
    }
  }
}
