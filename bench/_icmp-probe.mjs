// Helper process for bench/icmp.mjs and bench/traceroute.mjs (not a benchmark on its own): runs Vantage's IcmpEngine (from
// dist/) in a process of its own, so its CPU time and memory are only the engine's, and so it can
// run inside a lab namespace (`ip netns exec <agent-ns> node bench/_icmp-probe.mjs MODE JSON`).
// Prints one JSON line on stdout and exits. Modes:
//   throughput {targets, rate, durationMs, timeoutMs}
//       N distinct 127.x.y.z addresses; rate > 0: paced at `rate` probes/s over the targets in
//       turn; rate 0: closed loop (every target re-probed as soon as its answer is in).
//   accuracy {echo, path, count, intervalMs, timeoutMs, inflight, loopbackRate, busyFraction}
//       `count` probes to the echo responder and as many to a kernel-answered host, interleaved,
//       optionally while 1,000 blackholed lab targets are kept in flight, 1,000 loopback targets
//       answer at `loopbackRate` probes/s, and a prom-client registry is rendered `busyFraction`
//       of the time (the event loop blocked, as when /metrics is scraped).
//   blackbox {port, echo, path, count, intervalMs}
//       the same interleaved probes through blackbox_exporter's /probe?module=icmp (it listens on
//       127.0.0.1 of this namespace), reading probe_icmp_duration_seconds{phase="rtt"}.
//   trace {address, runs, maxHops, probesPerHop, probeTimeoutMs}
//       `runs` traces with the agent's trace() on one warm engine (for bench/traceroute.mjs).
// Addresses: 127.0.0.0/8 and the lab's 198.18.0.0/15 and 2001:db8::/32 only (the caller passes them).
import { Agent } from 'node:http';
import { delay as sleep, httpGet, loadDist, loopbackTarget, summarize } from './lib.mjs';

const [mode, json] = process.argv.slice(2);
const args = JSON.parse(json ?? '{}');
/** Hard bound on this process, whatever happens (the parent also kills it). */
const HARD_LIMIT_MS = args.hardLimitMs ?? 60_000;
setTimeout(() => {
  process.stderr.write(`_icmp-probe: ${mode} still running after ${HARD_LIMIT_MS} ms, exiting\n`);
  process.exit(3);
}, HARD_LIMIT_MS).unref();

async function engine() {
  const { IcmpEngine } = await loadDist('net/icmp/icmp-engine.js');
  const { systemClock } = await loadDist('clock.js');
  const eng = new IcmpEngine(systemClock);
  // Opens the socket and runs its warm-up outside any measurement.
  const first = await eng.echo({ address: '127.0.0.1', family: 4, timeoutMs: 1000 });
  if (first.status === 'failed') throw new Error(first.failure.message);
  return eng;
}

// ---------------------------------------------------------------------------------------------

async function throughput({ targets: n, rate, durationMs, timeoutMs = 1000, windowMs: reportEveryMs = 0 }) {
  const eng = await engine();
  const targets = Array.from({ length: n }, (_, i) => loopbackTarget(i));
  const rtts = [];
  const outcomes = {};
  let nonPositive = 0;
  let sent = 0;
  let settled = 0;
  let missed = 0;
  let maxGapMs = 0;
  let rssPeak = process.memoryUsage().rss;
  const rssTimer = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 100);
  const record = (o) => {
    settled++;
    if (o.status === 'reply') {
      rtts.push(Number(o.rttNs) / 1e3);
      if (o.rttNs <= 0n) nonPositive++;
    } else outcomes[o.status] = (outcomes[o.status] ?? 0) + 1;
  };
  const stats0 = eng.stats();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  // Per-window figures for long runs: what was sent and answered, CPU, the longest loop stall.
  const windows = [];
  let w = { at: t0, sent: 0, received: 0, cpu: process.cpuUsage(), maxGapMs: 0 };
  const closeWindow = (now) => {
    const cpu = process.cpuUsage(w.cpu);
    const win = {
      startS: (w.at - t0) / 1000,
      seconds: (now - w.at) / 1000,
      sent: sent - w.sent,
      received: rtts.length - w.received,
      cpuS: (cpu.user + cpu.system) / 1e6,
      maxGapMs: w.maxGapMs,
      rssMiB: process.memoryUsage().rss / 2 ** 20,
    };
    windows.push(win);
    // Streamed as well: if the process has to be killed (a stalled loop), the windows so far remain.
    process.stdout.write(`${JSON.stringify({ window: win })}\n`);
    w = { at: now, sent, received: rtts.length, cpu: process.cpuUsage(), maxGapMs: 0 };
  };
  let windowMs;
  if (rate > 0) {
    // Timers only decide when to send: every tick sends what is due by now, but never more than
    // 100 ms worth at once: a stalled loop skips probes (counted as missed) instead of bursting.
    // A tick every millisecond, or every 10 probes at low rates (the ticks themselves cost CPU).
    const burstCap = Math.max(1, Math.ceil(rate / 10));
    const tickMs = Math.max(1, Math.floor(10_000 / rate));
    const total = Math.floor((durationMs * rate) / 1000);
    let last = t0;
    await new Promise((resolve) => {
      const tick = () => {
        const now = performance.now();
        const gap = now - last;
        last = now;
        maxGapMs = Math.max(maxGapMs, gap);
        w.maxGapMs = Math.max(w.maxGapMs, gap);
        const elapsed = now - t0;
        let due = Math.min(Math.floor((elapsed * rate) / 1000), total) - missed;
        if (due - sent > burstCap) {
          missed += due - sent - burstCap;
          due = sent + burstCap;
        }
        while (sent < due) {
          const address = targets[sent % n];
          sent++;
          eng.echo({ address, family: 4, timeoutMs }).then(record);
        }
        if (reportEveryMs > 0 && now - w.at >= reportEveryMs) closeWindow(now);
        if (elapsed >= durationMs) resolve();
        else setTimeout(tick, tickMs);
      };
      tick();
    });
    windowMs = performance.now() - t0;
    while (settled < sent && performance.now() - t0 < durationMs + timeoutMs + 2000) await sleep(2);
    if (reportEveryMs > 0 && performance.now() - w.at > 50) closeWindow(performance.now());
  } else {
    const loop = async (address) => {
      while (performance.now() - t0 < durationMs) {
        sent++;
        record(await eng.echo({ address, family: 4, timeoutMs }));
      }
    };
    await Promise.all(targets.map(loop));
    windowMs = performance.now() - t0;
  }
  const totalMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  clearInterval(rssTimer);
  rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
  const stats = eng.stats();
  eng.close();
  return {
    targets: n,
    rate,
    durationMs,
    sent,
    received: rtts.length,
    outcomes,
    nonPositiveRtts: nonPositive,
    missed,
    maxLoopGapMs: maxGapMs,
    windows,
    windowMs,
    totalMs,
    cpuUserS: cpu.user / 1e6,
    cpuSystemS: cpu.system / 1e6,
    rssPeakMiB: rssPeak / 2 ** 20,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
    rttUs: summarize(rtts),
    engine: {
      sent: stats.sent - stats0.sent,
      received: stats.received - stats0.received,
      duplicates: stats.duplicates,
      late: stats.late,
      unmatched: stats.unmatched,
      socketErrors: stats.socketErrors,
    },
  };
}

// ---------------------------------------------------------------------------------------------

/** 1,000 blackholed lab targets (v4 /24 first, then the v6 /64), each with a probe in flight at all times. */
function blackholeTargets(v4Prefix, v6Prefix, n) {
  const out = [];
  for (let h = 1; h <= 254 && out.length < n; h++) out.push({ address: `${v4Prefix}.${h}`, family: 4 });
  for (let h = 1; out.length < n; h++) out.push({ address: `${v6Prefix}${h.toString(16)}`, family: 6 });
  return out;
}

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

async function accuracy({
  echo,
  path,
  count,
  intervalMs,
  timeoutMs = 1000,
  inflight = 0,
  blackholeV4,
  blackholeV6,
  loopbackTargets = 0,
  loopbackRate = 0,
  busyFraction = 0,
}) {
  const eng = await engine();
  const stop = { stopped: false };
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

  const echoUs = [];
  const pathUs = [];
  const statuses = {};
  const probeOne = async (address, family, into, i) => {
    const o = await eng.echo({ address, family, timeoutMs });
    statuses[o.status] = (statuses[o.status] ?? 0) + 1;
    into[i] = o.status === 'reply' ? Number(o.rttNs) / 1e3 : null;
  };
  const probes = [];
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    // Timers decide when to send (late under load: that is fine, the stamps are the kernel's).
    while (performance.now() - t0 < i * intervalMs) await sleep(Math.max(1, i * intervalMs - (performance.now() - t0)));
    inflightMin = Math.min(inflightMin, inflightNow);
    probes.push(probeOne(echo, 4, echoUs, i));
    while (performance.now() - t0 < i * intervalMs + intervalMs / 2) await sleep(1);
    probes.push(probeOne(path, 4, pathUs, i));
  }
  await Promise.all(probes);
  const measuredMs = performance.now() - t0;
  stop.stopped = true;
  const busyStats = busy ? await busy : undefined;
  await Promise.race([Promise.all(loads), sleep(3000)]);
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

// ---------------------------------------------------------------------------------------------

async function blackbox({ port, echo, path, count, intervalMs }) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const get = async (target) =>
    (await httpGet(port, `/probe?module=icmp&target=${encodeURIComponent(target)}`, 5000, agent)).body;
  // Ready when /metrics answers (bounded).
  const ready0 = performance.now();
  for (;;) {
    try {
      await httpGet(port, '/metrics', 500);
      break;
    } catch (err) {
      if (performance.now() - ready0 > 10_000)
        throw new Error(`blackbox_exporter on 127.0.0.1:${port} not ready: ${err.message}`);
      await sleep(20);
    }
  }
  const parse = (body) => {
    const ok = /^probe_success (\S+)/m.exec(body);
    const rtt = /^probe_icmp_duration_seconds\{phase="rtt"\} (\S+)/m.exec(body);
    return ok?.[1] === '1' && rtt ? Number(rtt[1]) * 1e6 : null;
  };
  const echoUs = [];
  const pathUs = [];
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    // Sequential: one probe in flight, as blackbox_exporter is used by a scraper.
    while (performance.now() - t0 < i * intervalMs) await sleep(1);
    echoUs.push(parse(await get(echo)));
    pathUs.push(parse(await get(path)));
  }
  agent.destroy();
  return { echoUs, pathUs, measuredMs: performance.now() - t0 };
}

// ---------------------------------------------------------------------------------------------

/** `runs` traces of one address with the agent's trace() on a warm engine (no process start-up in the numbers). */
async function traceMode({
  address,
  family = 4,
  runs,
  maxHops = 30,
  probesPerHop = 3,
  probeTimeoutMs = 1000,
  pauseMs = 50,
}) {
  const { trace } = await loadDist('checks/traceroute/trace.js');
  const { systemClock } = await loadDist('clock.js');
  const eng = await engine();
  const out = [];
  let lastAnswerAt = 0;
  // The engine as trace() sees it, noting when the last answer (reply or ICMP error) came in.
  const port = {
    echo: async (request) => {
      const o = await eng.echo(request);
      if ('rttNs' in o) lastAnswerAt = performance.now();
      return o;
    },
  };
  for (let i = 0; i < runs; i++) {
    if (i > 0) await sleep(pauseMs);
    const t0 = performance.now();
    lastAnswerAt = t0;
    const r = await trace(port, systemClock, { address, family, maxHops, probesPerHop, probeTimeoutMs });
    out.push({
      ms: performance.now() - t0,
      lastAnswerMs: lastAnswerAt - t0,
      reached: r.reached,
      lastRespondingHop: r.lastRespondingHop,
      hops: r.hops.map((h) => ({
        ttl: h.ttl,
        addresses: h.addresses,
        answered: h.rttMs.length,
        maxRttMs: h.rttMs.length ? Math.max(...h.rttMs) : null,
        ...(h.unreachable ? { unreachable: h.unreachable } : {}),
      })),
    });
  }
  eng.close();
  return { address, probesPerHop, probeTimeoutMs, runs: out };
}

// ---------------------------------------------------------------------------------------------

const MODES = { throughput, accuracy, blackbox, trace: traceMode };
try {
  if (!MODES[mode]) throw new Error(`unknown mode ${mode}: one of ${Object.keys(MODES).join(', ')}`);
  const result = await MODES[mode](args);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
} catch (err) {
  process.stderr.write(`_icmp-probe ${mode}: ${err?.stack ?? err}\n`);
  process.exit(1);
}
