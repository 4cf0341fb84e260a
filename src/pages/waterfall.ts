import { dataTable, esc, ms, table } from './html.js';

const W = 900;
const ROW = 22;
const LEFT = 90;
const RIGHT = 70;
const COLOURS = ['#8250df', '#1f6feb', '#0a7ea4', '#1a7f37', '#b26a00', '#bf3989', '#57606a'];

/**
 * A run's phases as a timing waterfall: each phase a bar starting where the one before it ended,
 * its width proportional to its time. `total` is the sum, not a phase of its own, and phases the
 * run never reached (absent or NaN) are left out.
 */
export function waterfall(title: string, phaseNames: readonly string[], phasesMs: readonly number[]): string {
  const phases = phaseNames
    .map((name, i) => ({ name, value: phasesMs[i] ?? Number.NaN }))
    .filter((p) => p.name !== 'total' && Number.isFinite(p.value) && p.value >= 0);
  if (phases.length === 0) return `<p class="mute">${esc(title)}: no phases recorded.</p>`;
  const total = phases.reduce((sum, p) => sum + p.value, 0);
  const scale = (W - LEFT - RIGHT) / Math.max(total, 1e-9);
  const h = phases.length * ROW + 8;
  let start = 0;
  const bars = phases.map((p, i) => {
    const y = 4 + i * ROW;
    const bar =
      `<text x="${LEFT - 6}" y="${y + 15}" text-anchor="end">${esc(p.name)}</text>` +
      `<rect class="seg" data-phase="${esc(p.name)}" data-ms="${p.value}" x="${(LEFT + start * scale).toFixed(2)}" ` +
      `y="${y + 3}" width="${Math.max(p.value * scale, 0).toFixed(2)}" height="${ROW - 6}" ` +
      `fill="${COLOURS[i % COLOURS.length]!}"><title>${esc(`${p.name} ${ms(p.value)}`)}</title></rect>` +
      `<text x="${(LEFT + (start + p.value) * scale + 4).toFixed(1)}" y="${y + 15}">${esc(ms(p.value))}</text>`;
    start += p.value;
    return bar;
  });
  let at = 0;
  const rows = phases.map((p) => {
    const row = [esc(p.name), esc(ms(at)), esc(ms(p.value))];
    at += p.value;
    return row;
  });
  return (
    `<figure><svg class="waterfall" viewBox="0 0 ${W} ${h}" width="${W}" height="${h}" role="img" ` +
    `aria-label="${esc(title)}">${bars.join('')}</svg>` +
    `<figcaption class="legend">${esc(title)}: ${esc(ms(total))} in all</figcaption></figure>` +
    dataTable('Data', table(['phase', 'starts at', 'takes'], rows))
  );
}
