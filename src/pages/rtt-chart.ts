import type { Sample } from '../history/sample-ring.js';
import { dataTable, esc, ms, table, utc } from './html.js';

const W = 900;
const H = 220;
const PAD = { left: 56, right: 14, top: 10, bottom: 24 };

/** Smokeping's idea: the median's colour says how much was lost. Upper bounds of each band. */
const LOSS_COLOURS: ReadonlyArray<readonly [number, string, string]> = [
  [0, '#1a7f37', 'no loss'],
  [0.05, '#1f6feb', 'up to 5 %'],
  [0.2, '#b26a00', 'up to 20 %'],
  [0.999, '#d1242f', 'more than 20 %'],
  [1, '#6e0d12', 'all lost / failed'],
];

export function lossColour(loss: number): string {
  return (LOSS_COLOURS.find(([upTo]) => loss <= upTo) ?? LOSS_COLOURS[LOSS_COLOURS.length - 1]!)[1];
}

/**
 * An RTT chart of one check and IP, smokeping style: per run a grey bar from the lowest to the
 * highest RTT, the median as a dot coloured by loss; a run without any figure (everything lost,
 * failed early) is a dark mark at the top. Route changes are dashed lines on the time axis. Each
 * run is one `g.pt`, so the picture and its data table have the same count.
 */
export function rttChart(title: string, samples: readonly Sample[], routeChanges: readonly number[]): string {
  if (samples.length === 0) return `<p class="mute">${esc(title)}: no runs recorded yet.</p>`;
  const t0 = samples[0]!.t;
  const t1 = Math.max(samples[samples.length - 1]!.t, t0 + 1);
  const highs = samples.map((s) => (Number.isFinite(s.highMs) ? s.highMs : s.ms)).filter(Number.isFinite);
  const top = niceCeiling(Math.max(1, ...highs) * 1.1);
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const x = (t: number): number => PAD.left + ((t - t0) / (t1 - t0)) * plotW;
  const y = (v: number): number => PAD.top + plotH - (Math.min(v, top) / top) * plotH;
  const barW = Math.max(1.5, Math.min(8, (plotW / samples.length) * 0.6));
  const parts: string[] = [];
  for (const [k, frac] of [0, 0.5, 1].entries()) {
    const v = top * frac;
    parts.push(
      `<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${y(v)}" y2="${y(v)}" stroke="#e5e5e5"/>`,
      `<text x="${PAD.left - 4}" y="${y(v) + 4}" text-anchor="end">${esc(k === 0 ? '0' : ms(v))}</text>`,
    );
  }
  parts.push(
    `<text x="${PAD.left}" y="${H - 6}">${esc(utc(t0))}</text>`,
    `<text x="${W - PAD.right}" y="${H - 6}" text-anchor="end">${esc(utc(t1))} UTC</text>`,
  );
  for (const t of routeChanges.filter((c) => c >= t0 && c <= t1))
    parts.push(
      `<line class="route-change" x1="${x(t)}" x2="${x(t)}" y1="${PAD.top}" y2="${PAD.top + plotH}" ` +
        `stroke="#8250df" stroke-dasharray="4 3"><title>route changed ${esc(utc(t))}</title></line>`,
    );
  for (const s of samples) {
    const cx = x(s.t).toFixed(1);
    const what = `${utc(s.t)} median ${ms(s.ms)} loss ${pct(s.loss)}${s.code ? ` ${s.code}` : ''}`;
    const tip = `<title>${esc(what)}</title>`;
    if (!Number.isFinite(s.ms)) {
      parts.push(
        `<g class="pt lost">${tip}<rect x="${(x(s.t) - barW / 2).toFixed(1)}" y="${PAD.top}" ` +
          `width="${barW.toFixed(1)}" height="6" fill="${lossColour(1)}"/></g>`,
      );
      continue;
    }
    const lo = Number.isFinite(s.lowMs) ? s.lowMs : s.ms;
    const hi = Number.isFinite(s.highMs) ? s.highMs : s.ms;
    parts.push(
      `<g class="pt">${tip}<rect x="${(x(s.t) - barW / 2).toFixed(1)}" y="${y(hi).toFixed(1)}" ` +
        `width="${barW.toFixed(1)}" height="${Math.max(1, y(lo) - y(hi)).toFixed(1)}" fill="#bbb"/>` +
        `<circle cx="${cx}" cy="${y(s.ms).toFixed(1)}" r="2.5" fill="${lossColour(s.loss)}"/></g>`,
    );
  }
  const legend = LOSS_COLOURS.map(
    ([, c, label]) => `<span><i class="swatch" style="background:${c}"></i>${label}</span>`,
  );
  const rows = samples.map((s) => [
    esc(utc(s.t)),
    s.ok ? '<span class="ok">ok</span>' : '<span class="bad">fail</span>',
    esc(ms(s.ms)),
    esc(ms(s.lowMs)),
    esc(ms(s.highMs)),
    esc(pct(s.loss)),
    esc(s.code ?? ''),
  ]);
  return (
    `<figure><svg class="rtt-chart" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" ` +
    `aria-label="${esc(title)}">${parts.join('')}</svg>` +
    `<figcaption class="legend">${esc(title)}: grey bar lowest to highest, dot the median; loss: ${legend.join('')}` +
    `<span><i class="swatch" style="background:#8250df"></i>route change</span></figcaption></figure>` +
    dataTable(
      `Data (${samples.length} runs)`,
      table(['time (UTC)', 'result', 'median', 'lowest', 'highest', 'loss', 'code'], rows),
    )
  );
}

function pct(loss: number): string {
  return Number.isFinite(loss) ? `${Math.round(loss * 1000) / 10} %` : '-';
}

/** The next 1, 2 or 5 times a power of ten at or above `v`. */
function niceCeiling(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v));
  return ([1, 2, 5, 10].find((m) => m * p >= v) ?? 10) * p;
}
