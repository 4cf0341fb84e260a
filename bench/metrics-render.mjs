// @ts-check
// /metrics render cost: MetricRegistries + ProbeRecorder filled with tcp results until the text
// exposition has about N series, then time render(false) (Prometheus text) and render(true)
// (OpenMetrics). Rendering runs on the event loop, so its time is also how long probes' timers
// and socket callbacks wait while a scrape is served.
import { loadDist } from './lib/dist.mjs';
import { runStandalone } from './lib/standalone.mjs';
import { rounded, summarize } from './lib/stats.mjs';
import { fmt, statCells } from './lib/table.mjs';

/** @import { Cell } from './lib/table.mjs' */

/** 0: no probe series at all (process metrics only): the fixed cost of a scrape. */
const SCALES = [0, 1_000, 10_000, 50_000];
const RENDERS = 20;
const WARMUP = 2;
const IPS_PER_CHECK = 4;
/** Every FAIL_EVERY-th check has its last IP failing (adds failure counters, like real fleets). */
const FAIL_EVERY = 10;

/**
 * Series in an exposition: its lines that are neither empty nor comments.
 * @param {string} body
 */
const countSeries = (body) => {
  let n = 0;
  for (const line of body.split('\n')) if (line !== '' && !line.startsWith('#')) n++;
  return n;
};

/**
 * The i-th tcp check's spec, as the recorder reads it.
 * @param {number} i
 */
function spec(i) {
  return {
    name: `check-${i}`,
    kind: 'tcp',
    target: { name: `target-${i}`, host: `host-${i}.bench.invalid`, group: '', labels: {} },
    schedule: { type: 'interval', intervalMs: 30_000 },
    timeoutMs: 5_000,
    settings: { port: 443, ip_family: 'any', ips: 'all' },
  };
}

/**
 * Label values only (nothing is contacted): loopback IPv4 and IPv4-mapped IPv6 literals.
 * @param {number} i
 */
function ipsOf(i) {
  const a = (i >> 8) & 255;
  const b = i & 255;
  return [`127.1.${a}.${b}`, `127.2.${a}.${b}`, `::ffff:127.3.${a}.${b}`, `::ffff:127.4.${a}.${b}`].slice(
    0,
    IPS_PER_CHECK,
  );
}

/**
 * The i-th check's results, one per IP; the last IP of every FAIL_EVERY-th check refused.
 * @param {number} i
 * @param {string} startedAt
 */
function results(i, startedAt) {
  return ipsOf(i).map((ip, k) => {
    const fail = i % FAIL_EVERY === 0 && k === IPS_PER_CHECK - 1;
    const resolve = 0.05 + (i % 7) * 0.01;
    const connect = 0.2 + ((i * 31 + k) % 97) * 0.013;
    return fail
      ? {
          check: `check-${i}`,
          kind: 'tcp',
          target: `target-${i}`,
          ip,
          ok: false,
          error: { code: 'TCP_REFUSED', message: `connect to ${ip}:443 failed: ECONNREFUSED`, phase: 'connect' },
          startedAt,
          durationMs: resolve + 0.1,
          phasesMs: { resolve, connect: 0.1 },
          port: 443,
        }
      : {
          check: `check-${i}`,
          kind: 'tcp',
          target: `target-${i}`,
          ip,
          ok: true,
          error: null,
          startedAt,
          durationMs: resolve + connect,
          phasesMs: { resolve, connect },
          port: 443,
          connectMs: connect,
        };
  });
}

/**
 * RENDERS timed renders after WARMUP untimed ones; the last body's size and series.
 * @param {any} registries a MetricRegistries from dist/ (untyped: see loadDist)
 * @param {boolean} openMetrics
 */
async function timeRenders(registries, openMetrics) {
  for (let i = 0; i < WARMUP; i++) await registries.render(openMetrics);
  /** @type {number[]} */
  const ms = [];
  let body = '';
  for (let i = 0; i < RENDERS; i++) {
    const t0 = performance.now();
    ({ body } = await registries.render(openMetrics));
    ms.push(performance.now() - t0);
  }
  return { ms, bytes: Buffer.byteLength(body), series: countSeries(body) };
}

/**
 * Fresh registries filled with tcp checks until the exposition has about `target` series, then
 * timed renders in both formats.
 * @param {number} target
 * @param {any} mods MetricRegistries, ProbeRecorder and tcpKind from dist/ (untyped: see loadDist)
 */
async function oneScale(target, mods) {
  const { MetricRegistries, ProbeRecorder, tcpKind } = mods;
  const registries = new MetricRegistries({ processMetrics: true });
  registries.setDefaultLabels({ agent: 'bench', region: 'bench-1', carrier: 'bench', network_type: 'datacenter' });
  const recorder = new ProbeRecorder(registries, [tcpKind]);
  const startedAt = new Date().toISOString();
  const base = countSeries((await registries.render(false)).body);
  // Measure series per check on one batch, then record as many checks as the target needs.
  let checks = 0;
  /** @type {number[]} */
  const recordMs = [];
  /** @param {number} i */
  const record = (i) => {
    const t0 = performance.now();
    recorder.record(spec(i), results(i, startedAt));
    recordMs.push(performance.now() - t0);
  };
  let perCheck = NaN;
  if (target > 0) {
    for (; checks < FAIL_EVERY; checks++) record(checks);
    perCheck = (countSeries((await registries.render(false)).body) - base) / FAIL_EVERY;
    const wanted = Math.max(FAIL_EVERY, Math.round((target - base) / perCheck));
    for (; checks < wanted; checks++) record(checks);
  }
  const text = await timeRenders(registries, false);
  const om = await timeRenders(registries, true);
  return { target, checks, ips: checks * IPS_PER_CHECK, base, perCheck, text, om, recordMs };
}

export async function run() {
  const mods = {
    ...(await loadDist('metrics/registries.js')),
    ...(await loadDist('metrics/probe-recorder.js')),
    ...(await loadDist('checks/tcp/index.js')),
  };
  // Warm-up (JIT, prom-client's code paths), not reported: the first scale would pay for it.
  await oneScale(1_000, mods);
  /** @type {Awaited<ReturnType<typeof oneScale>>[]} */
  const scales = [];
  for (const target of SCALES) {
    scales.push(await oneScale(target, mods));
    globalThis.gc?.();
  }
  const rows = scales.flatMap((s) =>
    /** @type {const} */ ([
      ['text', s.text],
      ['openmetrics', s.om],
    ]).map(([format, r]) => [
      fmt(s.target, 0),
      format,
      fmt(s.checks, 0),
      fmt(s.ips, 0),
      fmt(r.series, 0),
      fmt(r.bytes / 1024, 0),
      ...statCells(summarize(r.ms), ['p50', 'p99', 'max'], 2),
    ]),
  );
  const recRows = scales
    .filter((s) => s.checks > 0)
    .map((s) => {
      const st = summarize(s.recordMs);
      return [fmt(s.target, 0), fmt(s.checks, 0), fmt(s.perCheck, 1), fmt(st.p50 * 1000, 1), fmt(st.p99 * 1000, 1)];
    });
  return {
    title:
      'metrics-render: MetricRegistries.render() with ProbeRecorder tcp series ' +
      `(${RENDERS} renders each, after ${WARMUP} warm-up)`,
    sections: [
      {
        headers: ['target series', 'format', 'checks', 'IPs', 'series', 'body KiB', 'p50 ms', 'p99 ms', 'max ms'],
        rows,
        notes: [
          `${IPS_PER_CHECK} IPs per check (2 IPv4, 2 IPv6), every ${FAIL_EVERY}th check has one IP failing; ` +
            'processMetrics on; 4 identity default labels',
          'series = non-comment lines of the rendered body (histogram buckets count one each)',
          'times are the whole render as one string (wall clock); a served scrape is streamed in slices that ' +
            'yield to the event loop: bench/metrics-exposition.mjs measures the longest block',
          'target 0 = no probe series: prom-client process metrics only (their collection runs on every render)',
        ],
      },
      {
        heading: 'recording cost (ProbeRecorder.record, one call per check with all its IPs):',
        headers: ['target series', 'checks', 'series/check', 'record p50 us', 'record p99 us'],
        rows: recRows,
      },
    ],
    raw: {
      renders: RENDERS,
      ipsPerCheck: IPS_PER_CHECK,
      scales: scales.map((s) => ({
        targetSeries: s.target,
        checks: s.checks,
        ips: s.ips,
        baseSeries: s.base,
        seriesPerCheck: s.perCheck,
        text: { series: s.text.series, bytes: s.text.bytes, ms: rounded(summarize(s.text.ms)) },
        openMetrics: { series: s.om.series, bytes: s.om.bytes, ms: rounded(summarize(s.om.ms)) },
        recordMs: rounded(summarize(s.recordMs), 6),
      })),
    },
  };
}

/**
 * bench/metrics-render.mjs's lines in the suite's summary (bench/run.mjs): the text render's p50
 * at each scale with probe series.
 * @param {Awaited<ReturnType<typeof run>>['raw']} m
 * @returns {Cell[][]}
 */
export function headline(m) {
  return m.scales
    .filter((x) => x.targetSeries > 0)
    .map((sc) => [`/metrics render p50 ms, ${fmt(sc.text.series, 0)} series (text)`, fmt(sc.text.ms.p50, 2), '-', '-']);
}

await runStandalone(import.meta.url, run);
