import { createRequire } from 'node:module';
import { elapsedMs } from '../clock.js';
import type { Clock } from '../clock.js';
import type { HeapTrimConfig } from '../config/agent-config.js';

/** The addon in native/heap_pressure.cc: memory-pressure notifications to the calling thread's V8 isolate. */
export interface HeapPressure {
  /** An incremental memory-reducing mark-compact, unless a marking runs already (then nothing). */
  moderate(): void;
  /** Memory-reducing full collections now, blocking (tens of ms at thousands of checks). */
  critical(): void;
}

/**
 * The addon, or why it cannot be used: not built, or built for a Node whose V8 lacks what it calls
 * (it is linked to fail at load then); either way `npm ci` or `npm run build:native` mends it.
 */
export function loadHeapPressure(): HeapPressure | Error {
  let loaded: unknown;
  try {
    // Same depth from src/agent and dist/agent: the project root holds build/Release.
    loaded = createRequire(import.meta.url)('../../build/Release/vantage_heap.node');
  } catch (err) {
    return new Error(
      `the heap addon cannot be loaded (${(err as Error).message.split('\n')[0]}): run npm ci or npm run build:native`,
    );
  }
  if (!isHeapPressure(loaded))
    return new Error('the heap addon lacks moderate() or critical(): run npm ci or npm run build:native');
  return loaded;
}

function isHeapPressure(module: unknown): module is HeapPressure {
  const exports = module as { moderate?: unknown; critical?: unknown } | null;
  return typeof exports?.moderate === 'function' && typeof exports.critical === 'function';
}

/** What a HeapTrim reports. */
export interface HeapTrimEvents {
  trimmed(): void;
  /** Trims are enabled and the addon could not be loaded: said once. */
  unavailable(reason: Error): void;
}

/**
 * Gives V8's pooled pages back to the system. On Node 22 (V8 12) the pages a mark-compact frees
 * stay committed in a pool until a memory-reducing GC, and V8 starts one only when the allocation
 * rate is low, which it never is at thousands of checks: the agent's RSS then stays at the highest
 * its heap ever was (bench/scale.mjs, 12,000 checks: 68-69 MB pooled after start-up's peak, 25-34 MB
 * for good from minute 1). So, once the first config has been applied (start-up's garbage, the
 * config read and every check built, is dead then), one blocking collection that cannot be dropped,
 * with the heap at its smallest: what grows after it is the heap's own growth. Then, every interval,
 * an incremental one for whatever peak came later (a reload, an outage's retries); V8 drops one that
 * comes while a marking runs, and the next interval tries again. Only the calling thread's isolate:
 * the HTTPS worker's allocates little, and V8's own reducer trims it.
 */
export class HeapTrim {
  private cancel: (() => void) | undefined;
  private intervalMs = 0;
  private enabled = false;
  private saidUnavailable = false;
  private readonly pressure: HeapPressure | undefined;
  private readonly unavailableReason: Error | undefined;

  constructor(
    private readonly clock: Clock,
    pressure: HeapPressure | Error,
    private readonly events: HeapTrimEvents,
  ) {
    if (pressure instanceof Error) this.unavailableReason = pressure;
    else this.pressure = pressure;
  }

  /**
   * Starts, re-times or stops the periodic trims. An unchanged config leaves the next one where it
   * is; a new interval counts from now.
   */
  configure(config: HeapTrimConfig): void {
    this.enabled = config.enabled;
    if (this.unavailableReason) {
      if (config.enabled && !this.saidUnavailable) this.events.unavailable(this.unavailableReason);
      this.saidUnavailable ||= config.enabled;
      return;
    }
    const intervalMs = config.enabled ? config.intervalMs : 0;
    if (intervalMs === this.intervalMs) return;
    this.stop();
    this.intervalMs = intervalMs;
    if (intervalMs > 0) this.arm();
  }

  /** The start-up trim: call once the first config has been applied. Returns what it took (ms), if it ran. */
  started(): number | undefined {
    if (!this.enabled || !this.pressure) return undefined;
    const startNs = this.clock.monotonicNs();
    this.pressure.critical();
    this.events.trimmed();
    return elapsedMs(startNs, this.clock.monotonicNs());
  }

  stop(): void {
    this.cancel?.();
    this.cancel = undefined;
    this.intervalMs = 0;
  }

  private arm(): void {
    this.cancel = this.clock.setTimer(this.intervalMs, () => {
      this.arm();
      this.pressure?.moderate();
      this.events.trimmed();
    });
  }
}
