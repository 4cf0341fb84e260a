import { createRequire } from 'node:module';
import type { Clock } from '../clock.js';
import type { HeapTrimConfig } from '../config/agent-config.js';

/** The addon in native/heap_pressure.cc: asks the calling thread's V8 isolate for a memory-reducing GC. */
export interface HeapPressure {
  moderate(): void;
}

/**
 * The first trim comes this long after the agent starts (or one interval, when shorter): start-up's
 * garbage (the config read, every check built) is collected by then, and its pages are what a busy
 * agent's V8 would otherwise keep for good.
 */
export const FIRST_TRIM_AFTER_MS = 20_000;

/** The addon, or why it cannot be loaded (not built: run `npm ci` or `npm run build:native`). */
export function loadHeapPressure(): HeapPressure | Error {
  try {
    // Same depth from src/agent and dist/agent: the project root holds build/Release.
    return createRequire(import.meta.url)('../../build/Release/vantage_heap.node') as HeapPressure;
  } catch (err) {
    return new Error(
      `the heap addon is not built (${(err as Error).message.split('\n')[0]}): run npm ci or npm run build:native`,
    );
  }
}

/**
 * Gives V8's pooled pages back to the system now and then. On Node 22 (V8 12) the pages a
 * mark-compact frees stay committed in a pool until a memory-reducing GC, and V8 starts one only
 * when the allocation rate is low, which it never is at thousands of checks: the agent's RSS then
 * stays at the highest its heap ever was (bench/scale.mjs, 12,000 checks: 25-34 MB pooled at
 * minute 2, 69 MB just after start-up). Each trim is one incremental mark-compact that compacts
 * harder than most (its pause 5-23 ms there, against 3-21 for the others); it runs on the calling
 * thread's isolate only: the HTTPS worker's allocates little, and V8's own reducer trims it.
 */
export class HeapTrim {
  private cancel: (() => void) | undefined;
  private intervalMs = 0;
  private trimmedOnce = false;

  constructor(
    private readonly clock: Clock,
    private readonly pressure: HeapPressure,
    private readonly trimmed: () => void,
  ) {}

  /** Starts, re-times or stops the trims; an unchanged config leaves the next one where it is. */
  configure(config: HeapTrimConfig): void {
    const intervalMs = config.enabled ? config.intervalMs : 0;
    if (intervalMs === this.intervalMs) return;
    this.stop();
    this.intervalMs = intervalMs;
    if (intervalMs > 0) this.arm(this.trimmedOnce ? intervalMs : Math.min(FIRST_TRIM_AFTER_MS, intervalMs));
  }

  stop(): void {
    this.cancel?.();
    this.cancel = undefined;
    this.intervalMs = 0;
  }

  private arm(ms: number): void {
    this.cancel = this.clock.setTimer(ms, () => {
      this.pressure.moderate();
      this.trimmedOnce = true;
      this.trimmed();
      this.arm(this.intervalMs);
    });
  }
}
