// @ts-check
// The children's results side by side: the table, its notes, the raw numbers for
// bench/results/latest.json, and the suite's summary lines (headline).
import { cpus, loadavg } from 'node:os';
import { rounded, summarize } from '../lib/stats.mjs';
import { fmt } from '../lib/table.mjs';
import { ENGINES, GZIP_LEVEL, MB, SCALES, SCRAPES } from './settings.mjs';

/** @import { Cell } from '../lib/table.mjs' */
/** @import { ChildResult, Scale, Scrapes } from './settings.mjs' */

const HEADERS = [
  'series',
  'exposition',
  'encoding',
  'loop ms p50',
  'loop ms max',
  'loop CPU ms p50',
  'block ms p50',
  'block ms max',
  'wall ms p50',
  'CPU ms p50',
  'body MB',
  'heap MB',
  'buffers MB',
  'RSS MB',
  'record us/run',
];

/** @param {Scrapes} s */
const rawScrapes = (s) => ({
  bytes: s.bytes,
  loopMs: rounded(summarize(s.loopMs)),
  threadMs: rounded(summarize(s.threadMs)),
  blockMs: rounded(summarize(s.blockMs)),
  cpuMs: rounded(summarize(s.cpuMs)),
});

/**
 * One row per result and encoding.
 * @param {ChildResult[]} results
 * @returns {Cell[][]}
 */
function rows(results) {
  return results.flatMap((r) =>
    /** @type {const} */ ([
      ['plain', r.plain],
      ['gzip', r.gzip],
      ['gzip, every check ran', r.afterRuns],
    ]).map(([encoding, s]) => {
      const loop = summarize(s.loopMs);
      const block = summarize(s.blockMs);
      return [
        fmt(r.series, 0),
        r.engine,
        encoding,
        fmt(loop.p50, 1),
        fmt(loop.max, 1),
        fmt(summarize(s.threadMs).p50, 1),
        fmt(block.p50, 1),
        fmt(block.max, 1),
        fmt(summarize(s.wallMs).p50, 0),
        fmt(summarize(s.cpuMs).p50, 0),
        fmt(s.bytes / MB, 2),
        fmt(r.heapMB, 0),
        fmt(r.buffersMB, 0),
        fmt(r.rssMB, 0),
        fmt(r.recordUs, 1),
      ];
    }),
  );
}

/**
 * The table's notes: what each column is, the load, the scrapes, whether both engines agree.
 * @param {ChildResult[]} results in SCALES order, ENGINES order within each scale
 * @param {number} loadBefore the 1-minute load average before the children ran
 */
function notes(results, loadBefore) {
  const agree = SCALES.map((_wanted, i) => {
    const [ours, theirs] = [results[2 * i], results[2 * i + 1]];
    const same = ours?.probeLinesHash === theirs?.probeLinesHash ? 'identical' : 'DIFFER';
    return `${fmt(ours?.series, 0)} series: probe lines of both ${same} (sha256 ${ours?.probeLinesHash})`;
  });
  const perScale = ENGINES.map((e) => {
    const n = SCALES.map((s) => SCRAPES[e][/** @type {Scale} */ (s)]).join('/');
    return `${e} ${n} (after ${SCRAPES[e].warmup} warm-up)`;
  }).join(', ');
  return [
    'icmp checks, 1 IP each, three runs recorded per check, 4 identity labels, process metrics on; ' +
      'text format (OpenMetrics differs in headers only)',
    'loop ms: event-loop busy time during one scrape (eventLoopUtilization, wall clock); loop CPU: the ' +
      "main thread's CPU time in it (/proc schedstat: without the time it waited for a core)",
    'block: the longest gap ' +
      'between 1 ms ticks during a scrape, minus 1 ms (p50 and max over the scrapes; GC pauses included)',
    'CPU: all threads (gzip runs on the libuv pool); wall-clock figures include time the process waited ' +
      `for a core: load average ${fmt(loadBefore, 2)} before the run, ${fmt(loadavg()[0], 2)} after, ` +
      `${cpus().length} cores`,
    "heap/buffers: after recording and a GC (ours keeps each check's rendered lines as buffers); " +
      'RSS: after the scrapes; record: ProbeRecorder.record per check run, the third run of each check ' +
      '(ours renders the lines then)',
    `timed scrapes per encoding: ${perScale}; ` + 'body piped to a byte-counting sink (no socket)',
    '"every check ran": each check records a run before each scrape (not timed), as in an agent whose ' +
      "checks run between scrapes: ours rendered each check's lines as it recorded, prom-client renders at the scrape",
    ...agree,
  ];
}

/**
 * bench/metrics-exposition.mjs's result: the table, the bytes per scrape, the raw numbers.
 * @param {ChildResult[]} results in SCALES order, ENGINES order within each scale
 * @param {number} loadBefore the 1-minute load average before the children ran
 */
export function report(results, loadBefore) {
  const gzipNotes = results
    .filter((r) => r.engine === 'ours')
    .map(
      (r) =>
        `${fmt(r.series, 0)} series: ${fmt(r.plain.bytes / MB, 2)} MB plain, gzip level ${GZIP_LEVEL} ` +
        `${fmt(r.gzip.bytes / MB, 2)} MB (${fmt(r.plain.bytes / r.gzip.bytes, 1)}x), level 6 ` +
        `${fmt((r.gzip6Bytes ?? NaN) / MB, 2)} MB`,
    );
  return {
    title: 'metrics-exposition: one /metrics scrape, ours (SeriesStore, streamed in slices) vs prom-client render',
    sections: [
      { headers: HEADERS, rows: rows(results), notes: notes(results, loadBefore) },
      { heading: 'bytes per scrape:', notes: gzipNotes },
    ],
    raw: {
      gzipLevel: GZIP_LEVEL,
      scales: results.map((r) => ({
        engine: r.engine,
        series: r.series,
        targets: r.targets,
        plain: rawScrapes(r.plain),
        gzip: rawScrapes(r.gzip),
        afterRuns: rawScrapes(r.afterRuns),
        gzip6Bytes: r.gzip6Bytes,
        heapMB: r.heapMB,
        buffersMB: r.buffersMB,
        rssMB: r.rssMB,
        recordUs: r.recordUs,
      })),
    },
  };
}

/**
 * Summary lines (bench/run.mjs): loop time and longest block per scrape at 100k series, and gzip
 * bytes, next to prom-client's.
 * @param {ReturnType<typeof report>['raw']} m
 * @returns {Cell[][]}
 */
export function headline(m) {
  const at = (/** @type {string} */ engine) =>
    m.scales.filter((s) => s.engine === engine && s.series >= 90_000 && s.series < 200_000)[0];
  const ours = at('ours');
  const theirs = at('prom-client');
  if (!ours || !theirs) return [];
  const n = fmt(ours.series, 0);
  return [
    [
      `/metrics loop ms per scrape, ${n} series (gzip)`,
      fmt(ours.gzip.loopMs.p50, 1),
      fmt(theirs.gzip.loopMs.p50, 1),
      'prom-client render',
    ],
    [
      `/metrics loop ms per scrape, ${n} series (gzip), every check ran since the last`,
      fmt(ours.afterRuns.loopMs.p50, 1),
      fmt(theirs.afterRuns.loopMs.p50, 1),
      'prom-client render',
    ],
    [
      `/metrics longest loop block ms, ${n} series`,
      fmt(ours.gzip.blockMs.max, 1),
      fmt(theirs.gzip.blockMs.max, 1),
      'prom-client render',
    ],
    [
      `/metrics MB per scrape, ${n} series, gzip vs plain`,
      fmt(ours.gzip.bytes / MB, 2),
      fmt(ours.plain.bytes / MB, 2),
      'uncompressed',
    ],
  ];
}
