import type { QualityClass } from '../quality/classify.js';
import type { QualityView } from '../quality/quality-model.js';
import type { ScoreMode } from './ranking-settings.js';

/** A target's score in a set, in milliseconds (lower is faster); null while it cannot be ranked. */
export interface Scored {
  target: string;
  scoreMs: number | null;
  successRatio: number | null;
  class: QualityClass;
}

/**
 * The time a client can expect to wait: the path's time divided by the success rate, since a
 * failed attempt is retried and each attempt costs about the same (a 90 % target pays 1/0.9).
 * `http`: first byte + connect, the two round trips a fresh HTTPS request pays besides TLS; `icmp`:
 * the echo RTT, and a run that got no reply counts as a failure. Unknown and Offline targets, and
 * those without the figures yet, have no score.
 */
export function score(target: string, mode: ScoreMode, view: QualityView | undefined): Scored {
  const cls = view?.class ?? 'unknown';
  const e = view?.estimate;
  const rate = e?.successRate ?? null;
  const base: Scored = { target, scoreMs: null, successRatio: rate, class: cls };
  if (!e || cls === 'unknown' || cls === 'offline' || rate === null || rate <= 0) return base;
  const path =
    mode === 'http'
      ? e.httpRttMs !== null && e.transportRttMs !== null
        ? e.httpRttMs + e.transportRttMs
        : null
      : e.transportRttMs;
  return path === null ? base : { ...base, scoreMs: path / rate };
}
