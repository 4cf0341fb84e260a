// @ts-check
// Mode `accuracy` of bench/_icmp-probe.mjs: `count` probes to the echo responder and as many to a
// kernel-answered host, interleaved, optionally while 1,000 blackholed lab targets are kept in
// flight, 1,000 loopback targets answer at `loopbackRate` probes/s, and a prom-client registry is
// rendered `busyFraction` of the time (the event loop blocked, as when /metrics is scraped).
import { delay as sleep, loopbackTarget } from '../lib/http.mjs';
import { replyUs, warmEngine } from './engine.mjs';

/** @typedef {{ address: string, family: 4 | 6 }} Address */

/**
 * 1,000 blackholed lab targets (v4 /24 first, then the v6 /64), each with a probe in flight at all times.
 * @param {string} v4Prefix
 * @param {string} v6Prefix
 * @param {number} n
 */
function blackholeTargets(v4Prefix, v6Prefix, n) {
  /** @type {Address[]} */
  const out = [];
  for (let h = 1; h <= 254 && out.length < n; h++) out.push({ address: `${v4Prefix}.${h}`, family: 4 });
  for (let h = 1; out.length < n; h++) out.push({ address: `${v6Prefix}${h.toString(16)}`, family: 6 });
  return out;
}

/**
 * Renders a 20,000-series registry `fraction` of the time until `stop.stopped`.
 * @param {number} fraction
 * @param {{ stopped: boolean }} stop
 */
async function busyLoad(fraction, stop) {
  const { Registry, Gauge } = await import('prom-client');
  const registry = new Registry();
  for (let g = 0; g < 20; g++) {
    const gauge = new Gauge({
      name: `bench_busy_${g}`,
      help: 'load for the accuracy benchmark',
      labelNames: ['target', 'phase'],
      registers: [registry],
    });
    for (let i = 0; i < 1000; i++) gauge.set({ target: `target-${i}`, phase: 'rtt' }, i);
  }
  await registry.metrics(); // warm
  const t0 = performance.now();
  let busyMs = 0;
  let renders = 0;
  let longestMs = 0;
  while (!stop.stopped) {
    const r0 = performance.now();
    await registry.metrics();
    const d = performance.now() - r0;
    busyMs += d;
    renders++;
    longestMs = Math.max(longestMs, d);
    await sleep(Math.max(1, (d * (1 - fraction)) / fraction));
  }
  return {
    renders,
    seriesRendered: 20_000,
    busyFraction: busyMs / (performance.now() - t0),
    longestRenderMs: longestMs,
  };
}

/**
 * @param {{
 *   echo: string, path: string, count: number, intervalMs: number, timeoutMs?: number,
 *   inflight?: number, blackholeV4?: string, blackholeV6?: string, loopbackTargets?: number,
 *   loopbackRate?: number, busyFraction?: number, hardLimitMs?: number,
 * } & import('./engine.mjs').SocketChoice} args
 */
export async function accuracy({
  echo,
  path,
  count,
  intervalMs,
  timeoutMs = 1000,
  inflight = 0,
  blackholeV4 = '',
  blackholeV6 = '',
  loopbackTargets = 0,
  loopbackRate = 0,
  busyFraction = 0,
  ...choice
}) {
  const eng = await warmEngine(choice);
  const stop = { stopped: false };
  /** @type {Promise<void>[]} */
  const loads = [];
  let inflightNow = 0;
  let inflightMin = Infinity;
  if (inflight > 0) {
    const targets = blackholeTargets(blackholeV4, blackholeV6, inflight);
    loads.push(
      Promise.all(
        targets.map(async (t, i) => {
          await sleep((i * 1000) / targets.length); // spread the first sends over a second
          while (!stop.stopped) {
            inflightNow++;
            await eng.echo({ ...t, timeoutMs: 1000 });
            inflightNow--;
          }
        }),
      ).then(() => undefined),
    );
  }
  let loopbackSent = 0;
  if (loopbackTargets > 0 && loopbackRate > 0) {
    const targets = Array.from({ length: loopbackTargets }, (_, i) => loopbackTarget(i));
    loads.push(
      new Promise((resolve) => {
        const t0 = performance.now();
        const tick = () => {
          if (stop.stopped) return resolve();
          const due = Math.floor(((performance.now() - t0) * loopbackRate) / 1000);
          while (loopbackSent < due)
            eng.echo({ address: targets[loopbackSent++ % targets.length], family: 4, timeoutMs: 1000 });
          setTimeout(tick, 1);
        };
        tick();
      }),
    );
  }
  const busy = busyFraction > 0 ? busyLoad(busyFraction, stop) : undefined;
  // Let the loads reach their steady state (every blackholed target in flight) before measuring.
  if (inflight > 0 || busy || loopbackSent > 0) await sleep(inflight > 0 ? 1200 : 300);

  /** @type {(number | null)[]} */
  const echoUs = [];
  /** @type {(number | null)[]} */
  const pathUs = [];
  /** @type {Record<string, number>} */
  const statuses = {};
  /**
   * @param {string} address
   * @param {(number | null)[]} into
   * @param {number} i
   */
  const probeOne = async (address, into, i) => {
    const o = await eng.echo({ address, family: 4, timeoutMs });
    statuses[o.status] = (statuses[o.status] ?? 0) + 1;
    into[i] = replyUs(o);
  };
  const probes = [];
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    // Timers decide when to send (late under load: that is fine, the stamps are the kernel's).
    while (performance.now() - t0 < i * intervalMs) await sleep(Math.max(1, i * intervalMs - (performance.now() - t0)));
    inflightMin = Math.min(inflightMin, inflightNow);
    probes.push(probeOne(echo, echoUs, i));
    while (performance.now() - t0 < i * intervalMs + intervalMs / 2) await sleep(1);
    probes.push(probeOne(path, pathUs, i));
  }
  await Promise.all(probes);
  const measuredMs = performance.now() - t0;
  stop.stopped = true;
  const busyStats = busy ? await busy : undefined;
  await Promise.race([Promise.all(loads), sleep(3000)]);
  /** Loose (any) as everything from dist/: the engine's counters, passed through to the report. */
  const stats = eng.stats();
  eng.close();
  return {
    echoUs: Array.from({ length: count }, (_, i) => echoUs[i] ?? null),
    pathUs: Array.from({ length: count }, (_, i) => pathUs[i] ?? null),
    statuses,
    measuredMs,
    load: {
      inflight,
      inflightMinAtSend: inflight > 0 ? inflightMin : 0,
      loopbackTargets,
      loopbackRate,
      loopbackSent,
      busy: busyStats,
    },
    engine: stats,
  };
}
