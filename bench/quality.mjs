// @ts-check
// Network quality (issue 15): CPU per observation and per evaluation at 10,000 targets, in process.
// Peer: the same model evaluated the naive way (weights with Math.pow, values sorted on every
// evaluation), as a straight reading of the issue would write it; same observations, same run.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { loadDist } from './lib/dist.mjs';
import { runStandalone } from './lib/standalone.mjs';
import { rounded, summarize } from './lib/stats.mjs';
import { fmt, statCells } from './lib/table.mjs';

const TARGETS = 10_000;
/** Observations timed per implementation (after the windows are full). */
const MEASURED = 200_000;
/**
 * Runs every 30 s (the default interval: 10 observations in a 5-minute window) and every 3 s (the
 * window full at max_samples, 100).
 */
const INTERVALS_MS = [30_000, 3_000];
const TICKS = 30;
/** How long the event-loop delay is watched, each way. */
const LOOP_MS = 5_000;

/** @typedef {{ t: number, target: string, ip: string, ok: boolean, httpRttMs: number, transportRttMs: number }} Obs */

/**
 * A deterministic pseudo-random sequence (xorshift), so both sides see the same inputs: each
 * target runs every `intervalMs`, the targets spread evenly over it.
 * @param {number} intervalMs
 * @returns {Generator<Obs, never>}
 */
function* inputs(intervalMs) {
  const spacingMs = intervalMs / TARGETS;
  let x = 2463534242;
  for (let i = 0; ; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const r = (x >>> 0) / 4294967296;
    yield {
      t: 1_700_000_000_000 + i * spacingMs,
      target: `t${i % TARGETS}`,
      ip: `198.18.${(i % TARGETS) >> 8}.${(i % TARGETS) & 255}`,
      ok: r > 0.05,
      httpRttMs: 80 + r * 400,
      transportRttMs: 20 + r * 100,
    };
  }
}

/**
 * The naive peer: per target the last `maxSamples` observations; every evaluation computes each
 * weight with Math.pow and sorts copies of the RTTs.
 * @param {{ maxAgeMs: number, maxSamples: number, decay: number, periodMs: number }} s
 */
function naivePeer(s) {
  /** @type {Map<string, Array<{ t: number, ok: boolean, http: number, transport: number }>>} */
  const windows = new Map();
  /** @param {Array<{ v: number, w: number }>} pairs */
  const median = (pairs) => {
    pairs.sort((a, b) => a.v - b.v);
    const half = pairs.reduce((sum, p) => sum + p.w, 0) / 2;
    let running = 0;
    for (const p of pairs) if ((running += p.w) >= half) return p.v;
    return null;
  };
  return {
    /** @param {{ t: number, target: string, ok: boolean, httpRttMs: number, transportRttMs: number }} o */
    observe(o) {
      let w = windows.get(o.target);
      if (!w) windows.set(o.target, (w = []));
      w.push({ t: o.t, ok: o.ok, http: o.httpRttMs, transport: o.transportRttMs });
      while (w.length > s.maxSamples || (w[0] && w[0].t <= o.t - s.maxAgeMs)) w.shift();
      const weights = w.map((x) => Math.pow(s.decay, (o.t - x.t) / s.periodMs));
      const total = weights.reduce((a, b) => a + b, 0);
      const ok = w.reduce((sum, x, i) => sum + (x.ok ? (weights[i] ?? 0) : 0), 0);
      return {
        http: median(w.map((x, i) => ({ v: x.http, w: weights[i] ?? 0 }))),
        transport: median(w.map((x, i) => ({ v: x.transport, w: weights[i] ?? 0 }))),
        rate: ok / total,
      };
    },
  };
}

/**
 * @param {(o: any) => unknown} observe
 * @param {Generator<any>} source
 */
function timeObservations(observe, source) {
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (let i = 0; i < MEASURED; i++) observe(source.next().value);
  const wallNs = Number(process.hrtime.bigint() - start);
  const used = process.cpuUsage(cpu);
  return { wallUsPerObs: wallNs / 1000 / MEASURED, cpuUsPerObs: (used.user + used.system) / MEASURED };
}

/**
 * Both models through the same observations at one interval.
 * @param {any} QualityModel
 * @param {any} settings
 * @param {number} intervalMs
 */
async function measure(QualityModel, settings, intervalMs) {
  const fill = TARGETS * settings.maxSamples;
  const ours = new QualityModel(settings);
  const source = inputs(intervalMs);
  // Typed arrays keep their contents outside the JS heap: both count.
  const memory = () => {
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  globalThis.gc?.();
  const heapBefore = memory();
  let last = 0;
  for (let i = 0; i < fill; i++) {
    const o = source.next().value;
    ours.observe(o);
    last = o.t;
  }
  globalThis.gc?.();
  const bytesPerTarget = (memory() - heapBefore) / TARGETS;
  const obs = timeObservations((o) => ours.observe(o), source);
  // The work over all targets (tick: a tenth of the windows expire, the agent's class), once a second.
  /** @type {number[]} */
  const tickMs = [];
  let t = last + 1_000;
  for (let i = 0; i < TICKS; i++, t += 1_000) {
    const start = process.hrtime.bigint();
    ours.tick(t);
    tickMs.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  const peer = naivePeer(settings);
  const peerSource = inputs(intervalMs);
  for (let i = 0; i < fill; i++) peer.observe(peerSource.next().value);
  const naive = timeObservations((o) => peer.observe(o), peerSource);
  const perWindow = Math.min(settings.maxSamples, Math.floor(settings.maxAgeMs / intervalMs));
  return { intervalMs, perWindow, obs, naive, bytesPerTarget, tick: summarize(tickMs) };
}

/**
 * Event-loop delay while the model takes 10,000 targets' observations every 30 s (333 a second, fed
 * in 10 ms batches like finished runs) and ticks once a second, beside the same timers feeding
 * nothing: what the scheduler's lag would add.
 * @param {any} model undefined: the timers alone
 * @param {() => Obs} next
 */
async function loopDelay(model, next) {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  const perBatch = Math.round(TARGETS / 30 / 100);
  let t = next().t;
  const feed = setInterval(() => {
    for (let i = 0; i < perBatch; i++) {
      const o = next();
      t = o.t;
      model?.observe(o);
    }
    model?.tick(t);
  }, 10);
  await new Promise((r) => setTimeout(r, LOOP_MS));
  clearInterval(feed);
  histogram.disable();
  return { p50: histogram.percentile(50) / 1e6, p99: histogram.percentile(99) / 1e6, max: histogram.max / 1e6 };
}

export async function run() {
  const { QualityModel } = await loadDist('quality/quality-model.js');
  const { DEFAULT_QUALITY } = await loadDist('quality/quality-settings.js');
  const results = [];
  for (const intervalMs of INTERVALS_MS) results.push(await measure(QualityModel, DEFAULT_QUALITY, intervalMs));
  // Windows full at the default interval, observations going on in real time.
  const live = new QualityModel(DEFAULT_QUALITY);
  const feed = inputs(30_000);
  const next = () => feed.next().value;
  for (let i = 0; i < TARGETS * 10; i++) live.observe(next());
  const without = await loopDelay(undefined, next);
  const withModel = await loopDelay(live, next);
  return {
    title: `quality: ${TARGETS} targets, one IP each, default settings, in process`,
    sections: [
      {
        headers: [
          'runs every',
          'per window',
          'vantage µs CPU / obs',
          'naive µs CPU / obs',
          'vantage KiB / target (heap + buffers)',
        ],
        rows: results.map((r) => [
          `${r.intervalMs / 1000} s`,
          r.perWindow,
          fmt(r.obs.cpuUsPerObs, 2),
          fmt(r.naive.cpuUsPerObs, 2),
          fmt(r.bytesPerTarget / 1024, 1),
        ]),
        notes: [
          'naive: the same model evaluated the way a straight reading of the issue writes it (Math.pow per ' +
            'weight, the RTTs sorted on every evaluation); vantage keeps weights and sorted lists ' +
            '(src/quality/window.ts)',
          `${MEASURED} observations timed after ${TARGETS} x max_samples to fill the windows; at 10,000 targets ` +
            'every 30 s an agent makes 333 observations a second, every 3 s 3,333',
          'a shared 2-core machine: numbers are noisy (GC included); compare the rows of one run' +
            (globalThis.gc ? '' : '; run with --expose-gc for steadier heap figures'),
        ],
      },
      {
        headers: ['runs every', 'tick runs', ...['min', 'p50', 'max'].map((k) => `${k} ms`)],
        rows: results.map((r) => [
          `${r.intervalMs / 1000} s`,
          r.tick.count,
          ...statCells(r.tick, ['min', 'p50', 'max'], 2),
        ]),
        notes: [
          `event-loop delay over ${LOOP_MS / 1000} s (monitorEventLoopDelay, 1 ms resolution) while 333 observations ` +
            'a second and the ticks are fed in 10 ms batches: p50 / p99 / max ' +
            `${fmt(withModel.p50, 1)} / ${fmt(withModel.p99, 1)} / ${fmt(withModel.max, 1)} ms; the same timers ` +
            `feeding nothing: ${fmt(without.p50, 1)} / ${fmt(without.p99, 1)} / ${fmt(without.max, 1)} ms`,
          'tick: once a second, a tenth of the windows expire and the agent class is evaluated (three medians over ' +
            '10,000 targets); it holds the event loop for this long, which is what scheduler lag would show',
        ],
      },
    ],
    raw: {
      intervals: results.map((r) => ({ ...r, obs: rounded(r.obs), naive: rounded(r.naive), tick: rounded(r.tick) })),
      loopDelayMs: { withModel: rounded(withModel), without: rounded(without) },
    },
  };
}

/** @param {any} raw */
export function headline(raw) {
  return raw.intervals.flatMap((/** @type {any} */ r) => [
    [
      `quality: CPU per observation, 10,000 targets every ${r.intervalMs / 1000} s`,
      `${fmt(r.obs.cpuUsPerObs, 2)} µs`,
      `${fmt(r.naive.cpuUsPerObs, 2)} µs`,
      'naive model, same run',
    ],
    [
      `quality: tick over 10,000 targets (p50), every ${r.intervalMs / 1000} s`,
      `${fmt(r.tick.p50, 2)} ms`,
      '',
      'once a second',
    ],
  ]);
}

await runStandalone(import.meta.url, run);
