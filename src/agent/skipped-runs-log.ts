import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';

/** How long skipped runs are summed into one log line after the line that reported the first. */
export const SKIPPED_RUNS_LOG_WINDOW_MS = 10_000;

/** The checks a summary line names; the rest are counted (the metric has each one). */
const NAMED_CHECKS = 5;

interface Window {
  runs: number;
  checks: Set<string>;
  reasons: Record<string, number>;
}

/**
 * The log side of skipped runs. When the agent falls behind, every check skips at once: a line per
 * skip was thousands of lines per second at 12,000 checks, and writing them (secret redaction
 * included) took most of the CPU the agent was short of, so it fell further behind. The first skip
 * after a quiet window is logged as it happens; the skips after it are summed and logged once per
 * window until a window passes without any. `vantage_runs_skipped_total` counts every one per check.
 */
export class SkippedRunsLog {
  private window: Window | undefined;
  private cancelTimer: (() => void) | undefined;

  constructor(
    private readonly log: Logger,
    private readonly clock: Clock,
    private readonly windowMs = SKIPPED_RUNS_LOG_WINDOW_MS,
  ) {}

  skipped(check: string, reason: string, count: number): void {
    if (this.window === undefined) {
      this.log.warn({ check, reason, count }, 'runs skipped');
      this.open();
      return;
    }
    const window = this.window;
    window.runs += count;
    window.checks.add(check);
    window.reasons[reason] = (window.reasons[reason] ?? 0) + count;
  }

  /** Logs what the open window summed so far and stops its timer (the agent is stopping). */
  stop(): void {
    this.cancelTimer?.();
    this.report();
    this.window = undefined;
  }

  private open(): void {
    this.window = { runs: 0, checks: new Set(), reasons: {} };
    this.cancelTimer = this.clock.setTimer(this.windowMs, () => {
      if (this.report()) this.open();
      else this.window = undefined;
    });
  }

  /** Logs the window's sum, if it has one; says whether it had. */
  private report(): boolean {
    const window = this.window;
    if (window === undefined || window.runs === 0) return false;
    const named = [...window.checks].slice(0, NAMED_CHECKS);
    this.log.warn(
      {
        runs: window.runs,
        checks: window.checks.size,
        reasons: window.reasons,
        examples: named,
        windowSeconds: this.windowMs / 1000,
      },
      'runs skipped (summed; vantage_runs_skipped_total has each check)',
    );
    return true;
  }
}
