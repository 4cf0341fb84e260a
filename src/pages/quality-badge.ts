import type { QualityView } from '../quality/quality-model.js';
import type { TargetRank } from './status-source.js';
import { esc, ms } from './html.js';

/** A quality class as a coloured word, its figures on hover and beside it where there is room. */
export function qualityBadge(view: QualityView | undefined, withFigures = false): string {
  if (!view) return '<span class="cls-unknown">unknown</span>';
  const e = view.estimate;
  const figures = [
    e.httpRttMs === null ? '' : `HTTP RTT ${ms(e.httpRttMs)}`,
    e.transportRttMs === null ? '' : `transport RTT ${ms(e.transportRttMs)}`,
    e.successRate === null ? '' : `success ${Math.round(e.successRate * 1000) / 10} %`,
    `${view.samples} samples`,
  ]
    .filter(Boolean)
    .join(', ');
  const word = `<span class="cls-${esc(view.class)}" title="${esc(figures)}">${esc(view.class)}</span>`;
  return withFigures ? `${word} <span class="mute">(${esc(figures)})</span>` : word;
}

/** A target's ranks, "2 of 3 in eu-web"; '' when the agent ranks nothing. */
export function rankText(ranks: readonly TargetRank[] | undefined): string {
  if (!ranks || ranks.length === 0) return '';
  return ranks.map((r) => `${r.rank} of ${r.of} in ${r.set}`).join('; ');
}
