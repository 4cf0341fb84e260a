import type { CheckResult } from '../checks/check.js';
import { observationOf } from './observation.js';
import { QualityModel } from './quality-model.js';
import type { QualityView } from './quality-model.js';
import { DEFAULT_QUALITY } from './quality-settings.js';

/** Where a report's quality comes from: the running agent's window, or the report's own runs. */
export type ReportQuality = QualityView & { source: 'agent' | 'report' };

/**
 * The class and figures a one-off report's own runs give (`vantage diagnose` has no window of
 * history): each result of each kind one observation, every figure valid from the first.
 */
export function reportQuality(
  target: string,
  runs: ReadonlyArray<readonly [kind: string, results: readonly CheckResult[]]>,
): ReportQuality {
  const model = new QualityModel({ ...DEFAULT_QUALITY, minSamples: 1 });
  for (const [kind, results] of runs) {
    for (const result of results) {
      const o = observationOf(kind, target, result);
      if (o) model.observe(o);
    }
  }
  const view = model.view(target) ?? {
    class: 'unknown',
    estimate: { httpRttMs: null, transportRttMs: null, successRate: null, trend: 0 },
    samples: 0,
  };
  return { ...view, source: 'report' };
}
