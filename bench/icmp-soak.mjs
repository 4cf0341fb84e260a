// @ts-check
// The ICMP engine held at 10,000 probes/s for 10 minutes (issue 13): one process (bench/_icmp-probe.mjs
// throughput) sends to 1,000 distinct 127.x.y.z targets and reports each minute as it closes: probes
// sent and answered, CPU, the longest loop stall, RSS and heap. "Flat" is judged from minute 2 on
// (minute 1 holds the engine's start-up and the finished-probe memory filling up to its bound).
// Not in bench/run.mjs (it takes 10 minutes): `node bench/icmp-soak.mjs`, ICMP_SOAK_DURATION=10m,
// ICMP_SOAK_RATE=10000. Needs root (raw ICMP). Traffic: 127.0.0.0/8 only, bounded by the duration.
import { execHelper } from './lib/helpers.mjs';
import { runStandalone } from './lib/standalone.mjs';
import { fmt } from './lib/table.mjs';
import { parseDurationMs } from './scale/options.mjs';

/** @import { BenchResult } from './lib/table.mjs' */
/** @typedef {import('./icmp-probe/throughput.mjs').Window} Window */

const TARGETS = 1000;
const WINDOW_MS = 60_000;
const TIMEOUT_MS = 1000;
/** Issue 13: 10,000/s without loss, heap and RSS flat (here: at most 1 MiB/min of growth from minute 2 on). */
const AIMS = { rate: 10_000, lost: 0, growthMiBPerMin: 1 };

/**
 * Growth per minute from the second window to the last, by a least-squares line through them.
 * @param {readonly Window[]} windows
 * @param {(w: Window) => number} value
 */
function growthPerMin(windows, value) {
  const points = windows.slice(1).map((w) => [w.startS / 60, value(w)]);
  if (points.length < 2) return NaN;
  const n = points.length;
  const mx = points.reduce((a, [x = 0]) => a + x, 0) / n;
  const my = points.reduce((a, [, y = 0]) => a + y, 0) / n;
  const sxy = points.reduce((a, [x = 0, y = 0]) => a + (x - mx) * (y - my), 0);
  const sxx = points.reduce((a, [x = 0]) => a + (x - mx) ** 2, 0);
  return sxy / sxx;
}

/** @returns {Promise<BenchResult<{ windows: Window[], killed: boolean } | { skipped: string }>>} */
export async function run() {
  if (process.getuid?.() !== 0) return { title: 'icmp soak: skipped', raw: { skipped: 'raw ICMP sockets need root' } };
  const durationMs = parseDurationMs(process.env.ICMP_SOAK_DURATION) ?? 10 * 60_000;
  const rate = Number(process.env.ICMP_SOAK_RATE ?? AIMS.rate);
  const args = { targets: TARGETS, rate, durationMs, windowMs: WINDOW_MS, timeoutMs: TIMEOUT_MS, soak: true };
  const r = await execHelper(
    '_icmp-probe.mjs',
    ['throughput', JSON.stringify({ ...args, hardLimitMs: durationMs + 60_000 })],
    { timeoutMs: durationMs + 90_000 },
  );
  /** @type {Window[]} */
  const windows = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{"window"'))
    .map((l) => /** @type {{ window: Window }} */ (JSON.parse(l)).window);
  const full = windows.filter((w) => w.seconds >= (WINDOW_MS / 1000) * 0.9);
  const lost = full.reduce((a, w) => a + (w.sent - w.received), 0);
  const worstRate = Math.min(...full.map((w) => w.sent / w.seconds));
  const rssGrowth = growthPerMin(full, (w) => w.rssMiB);
  const heapGrowth = growthPerMin(full, (w) => w.heapMiB);
  const rows = windows.map((w, i) => [
    i + 1,
    fmt(w.sent / w.seconds, 0),
    fmt(w.sent - w.received, 0),
    fmt((w.cpuS / w.sent) * 1000, 4),
    fmt(w.maxGapMs, 1),
    fmt(w.rssMiB, 1),
    fmt(w.heapMiB, 1),
  ]);
  const met = (/** @type {boolean} */ ok) => (ok ? 'yes' : 'NO');
  return {
    title:
      `icmp soak: ${fmt(rate, 0)} probes/s to ${fmt(TARGETS, 0)} loopback targets ` +
      `for ${fmt(durationMs / 60_000, 1)} min`,
    sections: [
      {
        headers: ['min', 'probes/s', 'lost', 'CPU s per 1k', 'max stall ms', 'RSS MiB', 'heap MiB'],
        rows,
      },
      {
        heading: "issue 13's aims",
        headers: ['aim', 'aim value', 'measured', 'met'],
        rows: [
          ['worst minute, probes/s', `>= ${fmt(rate * 0.99, 0)}`, fmt(worstRate, 0), met(worstRate >= rate * 0.99)],
          ['replies lost', AIMS.lost, fmt(lost, 0), met(lost <= AIMS.lost)],
          ['RSS growth from minute 2, MiB/min', `<= ${AIMS.growthMiBPerMin}`, fmt(rssGrowth, 2), met(rssGrowth <= 1)],
          [
            'heap growth from minute 2, MiB/min',
            `<= ${AIMS.growthMiBPerMin}`,
            fmt(heapGrowth, 2),
            met(heapGrowth <= 1),
          ],
        ],
      },
    ],
    notes: [
      "heap: live heap when the minute closed (after a full collection, whose pause shows in that minute's stall)",
      'growth: the slope of a least-squares line through minutes 2 to the end',
      ...(r.timedOut ? ['the helper was killed: it did not end in time (a stalled loop?)'] : []),
    ],
    raw: { windows, killed: r.timedOut },
  };
}

await runStandalone(import.meta.url, run);
