// @ts-check
// The scale benchmark's tables: per minute of each point (memory and CPU; scheduling), the aims of
// issue 13 beside what was measured, and the trend over the points.
import { percentile } from '../lib/stats.mjs';
import { fmt } from '../lib/table.mjs';
import { AIMS } from './options.mjs';
import { bucketQuantile, shareAbove } from './scrape.mjs';

/** @import { PointRun, ScrapeRecord } from './measure.mjs' */
/** @import { Section, Cell } from '../lib/table.mjs' */

const MIB = 2 ** 20;
const MINUTE_NS = 60_000_000_000n;

/**
 * Percentiles (and count, max) of a list of numbers; NaN when empty.
 * @param {readonly number[]} values
 */
function stats(values) {
  const sorted = Float64Array.from(values).sort();
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.length ? (sorted[sorted.length - 1] ?? NaN) : NaN,
  };
}

/**
 * The figures of one window [fromNs, toNs) of a point.
 * @param {PointRun} run
 * @param {bigint} fromNs
 * @param {bigint} toNs
 */
export function windowFigures(run, fromNs, toNs) {
  const inside = run.samples.filter((s) => s.atNs >= fromNs && s.atNs <= toNs);
  const before = [...run.samples].reverse().find((s) => s.atNs <= fromNs) ?? inside[0];
  const end = inside.at(-1);
  const ok = (/** @type {ScrapeRecord} */ s) => s.exposition !== undefined;
  const scrapes = run.scrapes.filter((s) => s.startNs >= fromNs && s.startNs < toNs);
  // Counter deltas: from the last good scrape at or before the window's start to the last in it.
  const base = [...run.scrapes].reverse().find((s) => ok(s) && s.endNs <= fromNs + 1_000_000_000n);
  const last = [...scrapes].reverse().find(ok);
  const e0 = base?.exposition;
  const e1 = last?.exposition;
  const dtSec = base && last ? Number(last.endNs - base.endNs) / 1e9 : NaN;
  const sum = (/** @type {Record<string, number> | undefined} */ r) =>
    Object.values(r ?? {}).reduce((a, b) => a + b, 0);
  const windows = run.scrapes.map((s) => [s.startNs, s.endNs]);
  const wire = run.wire.filter((w) => w.plannedNs >= fromNs && w.plannedNs < toNs);
  const duringScrape = wire.filter((w) =>
    windows.some(([a, b]) => w.plannedNs >= (a ?? 0n) && w.plannedNs <= (b ?? 0n)),
  );
  const cpuSec = end && before ? end.cpuSec - before.cpuSec : NaN;
  const spanSec = end && before ? Number(end.atNs - before.atNs) / 1e9 : NaN;
  return {
    rssMb: (end?.rssBytes ?? NaN) / MIB,
    rssMaxMb: Math.max(...inside.map((s) => s.rssBytes)) / MIB,
    heapMb: (e1?.heapUsedBytes ?? NaN) / MIB,
    cpuSec,
    cores: cpuSec / spanSec,
    benchCores: end && before ? (end.helpersCpuSec - before.helpersCpuSec) / spanSec : NaN,
    otherCores:
      end && before
        ? (end.machineBusySec - before.machineBusySec - cpuSec - (end.helpersCpuSec - before.helpersCpuSec)) / spanSec
        : NaN,
    fds: end?.fds ?? NaN,
    series: e1?.series ?? NaN,
    scrapes: scrapes.length,
    scrapeErrors: scrapes.filter((s) => s.error !== undefined).length,
    scrapeMaxSec: Math.max(...scrapes.map((s) => s.ms)) / 1000,
    wireMb: (last?.wireBytes ?? NaN) / 1e6,
    bodyMb: (last?.bodyBytes ?? NaN) / 1e6,
    runsPerSec: e1?.runs !== undefined ? (e1.runs - (e0?.runs ?? 0)) / dtSec : NaN,
    skipped: e1 ? sum(e1.skipped) - sum(e0?.skipped) : NaN,
    lagP50Ms: e1 ? bucketQuantile(e0?.lagBuckets ?? [], e1.lagBuckets, 0.5) * 1000 : NaN,
    lagP99Ms: e1 ? bucketQuantile(e0?.lagBuckets ?? [], e1.lagBuckets, 0.99) * 1000 : NaN,
    lagOver5msPct: e1 ? shareAbove(e0?.lagBuckets ?? [], e1.lagBuckets, 0.005) * 100 : NaN,
    wire: stats(wire.map((w) => w.lagMs)),
    wireDuringScrape: stats(duringScrape.map((w) => w.lagMs)),
    icmpOk: e1?.successByKind.icmp,
    // Each https check's last run as the window's last scrape shows it: a phase inflated by the
    // agent's own load shows here (the servers are on loopback: a handshake takes 2-3 ms).
    httpsTls: stats(e1?.httpsTlsMs ?? []),
    httpsRun: stats(e1?.httpsRunMs ?? []),
  };
}

/**
 * Minute windows of a point (the last one may be shorter), plus the whole run.
 * @param {PointRun} run
 */
export function pointFigures(run) {
  /** @type {Array<ReturnType<typeof windowFigures> & { minute: number }>} */
  const minutes = [];
  for (let m = 0; run.readyNs + BigInt(m) * MINUTE_NS < run.endNs - 5_000_000_000n; m++) {
    const from = run.readyNs + BigInt(m) * MINUTE_NS;
    const to = from + MINUTE_NS < run.endNs ? from + MINUTE_NS : run.endNs;
    minutes.push({ minute: m + 1, ...windowFigures(run, from, to) });
  }
  const whole = windowFigures(run, run.readyNs, run.endNs);
  const rssMaxMb = Math.max(...run.samples.map((s) => s.rssBytes)) / MIB;
  // Flatness: from the end of minute 2 (start-up and the first runs behind) to the end.
  const second = minutes[1];
  const lastMinute = minutes.at(-1);
  const growthMbPerMin =
    minutes.length >= 3 && second && lastMinute
      ? (lastMinute.rssMb - second.rssMb) / (lastMinute.minute - second.minute)
      : NaN;
  const final = [...run.scrapes].reverse().find((s) => s.exposition)?.exposition;
  const skippedTotal = Object.values(final?.skipped ?? {}).reduce((a, b) => a + b, 0);
  return {
    minutes,
    whole,
    rssMaxMb,
    growthMbPerMin,
    skippedTotal,
    coresMaxMinute: Math.max(...minutes.map((m) => m.cores)),
  };
}

/**
 * The per-minute sections of one point.
 * @param {PointRun} run
 * @param {ReturnType<typeof pointFigures>} f
 * @returns {Section[]}
 */
export function minuteSections(run, f) {
  const { icmp, https, dns } = run.config;
  const title = `${fmt(icmp, 0)} icmp + ${fmt(https, 0)} https + ${fmt(dns, 0)} dns checks, every 10 s`;
  return [
    {
      heading: `${title}: memory, CPU, exposition per minute`,
      headers: [
        'min',
        'RSS MiB',
        'RSS max',
        'heap MiB',
        'CPU s',
        'cores',
        'bench',
        'others',
        'fds',
        'series',
        'scrapes',
        'scrape max s',
      ],
      rows: f.minutes.map((m) => [
        m.minute,
        fmt(m.rssMb, 0),
        fmt(m.rssMaxMb, 0),
        fmt(m.heapMb, 0),
        fmt(m.cpuSec, 1),
        fmt(m.cores, 2),
        fmt(m.benchCores, 2),
        fmt(m.otherCores, 2),
        m.fds,
        fmt(m.series, 0),
        m.scrapeErrors ? `${m.scrapes} (${m.scrapeErrors} failed)` : m.scrapes,
        fmt(m.scrapeMaxSec, 2),
      ]),
      notes: [
        `start-up (spawn -> /readyz 200) ${fmt(run.startupMs / 1000, 1)} s, ${fmt(run.startupCpuSec, 1)} CPU-s; ` +
          `stop ${fmt(run.stopMs / 1000, 1)} s (exit ${run.exit}); /metrics ${fmt(f.whole.bodyMb, 1)} MB, ` +
          `${fmt(f.whole.wireMb, 1)} MB on the wire (${run.scrapes.at(-1)?.encoding ?? '-'})`,
      ],
    },
    {
      heading: `${title}: scheduling per minute (lag in ms)`,
      headers: [
        'min',
        'runs/s',
        'skipped',
        'lag p50',
        'lag p99',
        '> 5 ms %',
        'wire p50',
        'wire p99',
        'wire max',
        'in-scrape p99',
        'in-scrape max',
        'icmp ok',
      ],
      rows: f.minutes.map((m) => [
        m.minute,
        fmt(m.runsPerSec, 0),
        fmt(m.skipped, 0),
        fmt(m.lagP50Ms, 2),
        fmt(m.lagP99Ms, 2),
        fmt(m.lagOver5msPct, 2),
        fmt(m.wire.p50, 2),
        fmt(m.wire.p99, 2),
        fmt(m.wire.max, 1),
        fmt(m.wireDuringScrape.p99, 2),
        fmt(m.wireDuringScrape.max, 1),
        m.icmpOk ? `${m.icmpOk.ok}/${m.icmpOk.all}` : '-',
      ]),
    },
    {
      heading: `${title}: https timings per minute (ms; each check's last run, in the minute's last scrape)`,
      headers: ['min', 'checks', 'tls p50', 'tls p99', 'tls max', 'run p50', 'run p99', 'run max'],
      rows: f.minutes.map((m) => [
        m.minute,
        m.httpsTls.count,
        fmt(m.httpsTls.p50, 2),
        fmt(m.httpsTls.p99, 2),
        fmt(m.httpsTls.max, 1),
        fmt(m.httpsRun.p50, 2),
        fmt(m.httpsRun.p99, 2),
        fmt(m.httpsRun.max, 1),
      ]),
    },
  ];
}

/**
 * The aims of issue 13 beside one point's figures.
 * @param {ReturnType<typeof pointFigures>} f
 * @returns {Cell[][]}
 */
export function aimRows(f) {
  const met = (/** @type {boolean} */ ok, /** @type {number} */ v) => (Number.isNaN(v) ? '-' : ok ? 'yes' : 'NO');
  const lagP99 = Math.max(f.whole.lagP99Ms, f.whole.wire.p99, f.whole.wireDuringScrape.p99);
  return [
    ['RSS, max MiB', `<= ${AIMS.rssMb}`, fmt(f.rssMaxMb, 0), met(f.rssMaxMb <= AIMS.rssMb, f.rssMaxMb)],
    [
      'RSS growth, minute 2 -> end, MiB/min',
      `<= ${AIMS.rssGrowthMbPerMin} (flat)`,
      fmt(f.growthMbPerMin, 1),
      met(f.growthMbPerMin <= AIMS.rssGrowthMbPerMin, f.growthMbPerMin),
    ],
    [
      'start lag p99 ms (histogram | wire | wire in scrapes)',
      `<= ${AIMS.lagP99Ms}`,
      `${fmt(f.whole.lagP99Ms, 2)} | ${fmt(f.whole.wire.p99, 2)} | ${fmt(f.whole.wireDuringScrape.p99, 2)}`,
      met(lagP99 <= AIMS.lagP99Ms, lagP99),
    ],
    ['runs skipped', `${AIMS.skipped}`, fmt(f.skippedTotal, 0), met(f.skippedTotal <= AIMS.skipped, f.skippedTotal)],
    [
      'CPU, cores (run mean | worst minute)',
      `<= ${AIMS.cores}`,
      `${fmt(f.whole.cores, 2)} | ${fmt(f.coresMaxMinute, 2)}`,
      met(f.coresMaxMinute <= AIMS.cores, f.coresMaxMinute),
    ],
  ];
}

/**
 * One row of the trend table (one point).
 * @param {PointRun} run
 * @param {ReturnType<typeof pointFigures>} f
 * @returns {Cell[]}
 */
export function trendRow(run, f) {
  const last = f.minutes.at(-1);
  const checks = run.config.icmp + run.config.https + run.config.dns;
  const icmpSeries = run.scrapes.at(-1)?.exposition?.seriesByKind.icmp ?? NaN;
  return [
    `${fmt(run.config.icmp, 0)} / ${fmt(run.config.https, 0)} / ${fmt(run.config.dns, 0)}`,
    fmt(run.durationMs / 60_000, 1),
    fmt(run.startupMs / 1000, 1),
    fmt(last?.rssMb, 0),
    fmt(f.rssMaxMb, 0),
    fmt(((last?.rssMb ?? NaN) * 1024) / checks, 1),
    fmt(last?.heapMb, 0),
    fmt(f.whole.cores, 2),
    fmt(last?.series, 0),
    fmt(icmpSeries / run.config.icmp, 1),
    fmt(f.whole.scrapeMaxSec, 2),
    fmt(f.whole.lagP99Ms, 2),
    fmt(f.whole.wire.p99, 2),
    fmt(f.whole.wire.max, 0),
    fmt(f.skippedTotal, 0),
  ];
}

export const TREND_HEADERS = [
  'icmp / https / dns',
  'min',
  'start s',
  'RSS MiB',
  'RSS max',
  'KiB/check',
  'heap MiB',
  'cores',
  'series',
  'series/icmp',
  'scrape max s',
  'lag p99',
  'wire p99',
  'wire max',
  'skipped',
];
