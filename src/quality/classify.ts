import type { Thresholds } from './quality-settings.js';
import type { Figures } from './window.js';

/** One word for a path: nothing known yet, nothing gets through, weak, fine. */
export const QUALITY_CLASSES = ['unknown', 'offline', 'bad', 'good'] as const;
export type QualityClass = (typeof QUALITY_CLASSES)[number];

/** A glitch this small does not break a run of same-signed changes. */
const GLITCH = 0.01;

/**
 * The success-rate trend after a new rate (Ctrip's rule): the previous rate against the new one;
 * either missing, or a jump of more than 1: 0; a glitch (|diff| < 0.01) or a change of the running
 * trend's sign: added; otherwise the trend restarts at the change.
 */
export function nextTrend(trend: number, previous: number | null, current: number | null): number {
  if (previous === null || current === null) return 0;
  const diff = current - previous;
  if (Math.abs(diff) > 1) return 0;
  if (Math.abs(diff) < GLITCH || Math.sign(diff) === Math.sign(trend)) return trend + diff;
  return diff;
}

/** Figures plus the trend of the success rate. */
export interface Estimate extends Figures {
  trend: number;
}

/** Whether the figures cross the thresholds (Offline and Unknown aside). */
function weak(e: Estimate, t: Thresholds): boolean {
  return (
    (e.httpRttMs !== null && e.httpRttMs >= t.httpRttMs) ||
    (e.transportRttMs !== null && e.transportRttMs >= t.transportRttMs) ||
    (e.successRate !== null && e.successRate <= t.successRate && e.trend <= t.trend)
  );
}

function hasValue(e: Estimate): boolean {
  return e.httpRttMs !== null || e.transportRttMs !== null || e.successRate !== null;
}

/** A target's class: Offline when its success rate is valid and 0. */
export function targetClass(e: Estimate, t: Thresholds): QualityClass {
  if (!hasValue(e)) return 'unknown';
  if (e.successRate === 0) return 'offline';
  return weak(e, t) ? 'bad' : 'good';
}

/** The agent's class: `offline` when none of its targets got through (see QualityModel.evaluateAgent). */
export function agentClass(e: Estimate, offline: boolean, t: Thresholds): QualityClass {
  if (offline) return 'offline';
  if (!hasValue(e)) return 'unknown';
  return weak(e, t) ? 'bad' : 'good';
}
