import { createRequire } from 'node:module';
import type * as NodeCron from 'node-cron';

const gapCache = new Map<string, number | string>();

/**
 * The shortest gap between consecutive runs of a cron expression (over its next few runs), or a
 * string saying why the expression is invalid. Used to refuse a timeout that would make runs overlap.
 */
export function cronMinGapMs(expression: string): number | string {
  const cached = gapCache.get(expression);
  if (cached !== undefined) return cached;
  const result = computeGap(expression);
  gapCache.set(expression, result);
  return result;
}

function computeGap(expression: string): number | string {
  // On first use: a config without cron schedules never pays node-cron's start-up (8-14 ms).
  const { createTask, validateDetailed } = createRequire(import.meta.url)('node-cron') as typeof NodeCron;
  const check = validateDetailed(expression);
  if (!check.valid) return check.errors.map((e) => `${e.field}: ${e.message}`).join('; ') || 'invalid';
  const task = createTask(expression, () => undefined);
  try {
    const runs = task.getNextRuns(6).map((d) => d.getTime());
    let gap = Number.POSITIVE_INFINITY;
    for (let i = 1; i < runs.length; i++) gap = Math.min(gap, (runs[i] ?? 0) - (runs[i - 1] ?? 0));
    return Number.isFinite(gap) ? gap : 'it never fires';
  } finally {
    void task.destroy();
  }
}
