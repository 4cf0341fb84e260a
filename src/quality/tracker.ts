import { nextTrend, targetClass } from './classify.js';
import type { Estimate, QualityClass } from './classify.js';
import type { SlotPools } from '../slabs.js';
import type { Thresholds } from './quality-settings.js';
import { ObservationWindow } from './window.js';
import type { WindowSettings } from './window.js';

/** A window with its success-rate trend and class, re-evaluated whenever its contents change. */
export class Tracker {
  readonly window: ObservationWindow;
  estimate: Estimate = { httpRttMs: null, transportRttMs: null, successRate: null, trend: 0 };
  class: QualityClass = 'unknown';

  constructor(settings: WindowSettings, pools: SlotPools) {
    this.window = new ObservationWindow(settings, pools);
  }

  /** Re-reads the figures, steps the trend on the new rate and returns the class it had before. */
  evaluate(thresholds: Thresholds): QualityClass {
    const w = this.window;
    const successRate = w.successRate();
    const trend = nextTrend(this.estimate.trend, this.estimate.successRate, successRate);
    this.estimate = { httpRttMs: w.httpRtt(), transportRttMs: w.transportRtt(), successRate, trend };
    const before = this.class;
    this.class = targetClass(this.estimate, thresholds);
    return before;
  }
}
