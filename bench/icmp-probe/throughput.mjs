// @ts-check
// Mode `throughput` of bench/_icmp-probe.mjs: N distinct 127.x.y.z addresses; rate > 0: paced at
// `rate` probes/s over the targets in turn; rate 0: closed loop (every target re-probed as soon as
// its answer is in). With `windowMs`, per-window figures are streamed as they close.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { delay as sleep, loopbackTarget } from '../lib/http.mjs';
import { summarize } from '../lib/stats.mjs';
import { warmEngine } from './engine.mjs';

/**
 * What one window of a long run saw.
 * @typedef {{
 *   startS: number, seconds: number, sent: number, received: number, cpuS: number, maxGapMs: number,
 *   rssMiB: number, heapMiB: number,
 * }} Window
 */

/**
 * @param {{
 *   targets: number, rate: number, durationMs: number, timeoutMs?: number, windowMs?: number,
 *   hardLimitMs?: number, soak?: boolean, warmupMs?: number,
 * } & import('./engine.mjs').SocketChoice} args
 * warmupMs: paced at `rate` (or 10,000/s in a closed loop) over the same targets for this long before
 * anything is measured, so the measurement is the engine an agent runs once its code is compiled
 * (V8 optimises the hot paths in the first seconds: a one-off start-up cost, not a cost per probe).
 * soak: a long run that judges memory: RTTs are counted, not kept (6 million of them grew this
 * process's heap by 48 MB in 10 minutes), and each window's heap is read after a full collection.
 */
export async function throughput({
  targets: n,
  rate,
  durationMs,
  timeoutMs = 1000,
  windowMs: reportEveryMs = 0,
  soak = false,
  warmupMs = 0,
  ...choice
}) {
  const gc = soak ? exposeGc() : undefined;
  const eng = await warmEngine(choice);
  const targets = Array.from({ length: n }, (_, i) => loopbackTarget(i));
  /** @type {number[]} */
  const rtts = [];
  let replies = 0;
  /** @type {Record<string, number>} */
  const outcomes = {};
  let nonPositive = 0;
  let sent = 0;
  let settled = 0;
  let missed = 0;
  let maxGapMs = 0;
  /** @param {{ status: string, rttNs: bigint }} o */
  const record = (o) => {
    settled++;
    if (o.status === 'reply') {
      replies++;
      if (!soak) rtts.push(Number(o.rttNs) / 1e3);
      if (o.rttNs <= 0n) nonPositive++;
    } else outcomes[o.status] = (outcomes[o.status] ?? 0) + 1;
  };
  // The warm-up is the first part of the same paced loop, with the same callbacks, and the
  // measurement its last `durationMs` (from `mark`, counts taken as differences): a loop's end, a
  // callback or a branch seen for the first time inside the measurement deoptimised the hot path
  // and compiled it again there (6 % of the measured CPU).
  const warmCpu0 = process.cpuUsage();
  let warmCpu = { user: 0, system: 0 };
  /** What the counters held when the measurement began. */
  let base = { sent: 0, replies: 0, nonPositive: 0, rtts: 0, outcomes: { ...outcomes } };
  let t0 = performance.now();
  let cpu0 = process.cpuUsage();
  let stats0 = eng.stats();
  // memoryUsage.rss(): memoryUsage() also walks the heap spaces (10 times a second: 1 % of this process CPU).
  let rssPeak = process.memoryUsage.rss();
  const start = performance.now();
  let marked = false;
  // The same timer marks the measurement's start: a timer callback new to the loop deoptimised
  // Node's timer list code inside the measurement.
  const rssTimer = setInterval(() => {
    rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
    if (!marked && rate > 0 && performance.now() - start >= warmupMs) mark();
  }, 100);
  // Per-window figures for long runs: what was sent and answered, CPU, the longest loop stall.
  /** @type {Window[]} */
  const windows = [];
  let w = { at: t0, sent: 0, received: 0, cpu: process.cpuUsage(), maxGapMs: 0 };
  /** @param {number} now */
  const closeWindow = (now) => {
    const cpu = process.cpuUsage(w.cpu);
    const win = {
      startS: (w.at - t0) / 1000,
      seconds: (now - w.at) / 1000,
      sent: sent - w.sent,
      received: replies - w.received,
      cpuS: (cpu.user + cpu.system) / 1e6,
      maxGapMs: w.maxGapMs,
      rssMiB: process.memoryUsage().rss / 2 ** 20,
      heapMiB: (gc?.(), process.memoryUsage().heapUsed / 2 ** 20),
    };
    windows.push(win);
    // Streamed as well: if the process has to be killed (a stalled loop), the windows so far remain.
    process.stdout.write(`${JSON.stringify({ window: win })}\n`);
    w = { at: now, sent, received: replies, cpu: process.cpuUsage(), maxGapMs: 0 };
  };
  const mark = () => {
    marked = true;
    warmCpu = process.cpuUsage(warmCpu0);
    // Probes still in flight (a tick's worth at most) count as the measurement's: sent, and settled in it.
    base = { sent: settled, replies, nonPositive, rtts: rtts.length, outcomes: { ...outcomes } };
    missed = 0;
    maxGapMs = 0;
    rssPeak = process.memoryUsage.rss();
    stats0 = eng.stats();
    cpu0 = process.cpuUsage();
    t0 = performance.now();
    w = { at: t0, sent, received: replies, cpu: process.cpuUsage(), maxGapMs: 0 };
  };
  /** @param {Promise<any>} outcome */
  const onProbe = (outcome) => {
    sent++;
    outcome.then(record);
  };
  /** @type {(now: number, gapMs: number, skipped: number) => void} */
  const onTick = (now, gapMs, skipped) => {
    maxGapMs = Math.max(maxGapMs, gapMs);
    w.maxGapMs = Math.max(w.maxGapMs, gapMs);
    missed += skipped;
    if (reportEveryMs > 0 && now - w.at >= reportEveryMs) closeWindow(now);
  };
  let windowMs;
  if (rate > 0) {
    if (warmupMs === 0) mark();
    await paced(eng, targets, rate, warmupMs + durationMs, timeoutMs, onProbe, onTick);
    windowMs = performance.now() - t0;
    while (settled < sent && performance.now() - t0 < durationMs + timeoutMs + 2000) await sleep(2);
    if (reportEveryMs > 0 && performance.now() - w.at > 50) closeWindow(performance.now());
  } else {
    await paced(eng, targets, 10_000, warmupMs, timeoutMs, onProbe, onTick);
    while (settled < sent) await sleep(2);
    mark();
    /** @param {string} address */
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
  // The warm-up's probes: those settled before the mark (see base).
  const warmup = { sent: base.sent, cpuS: (warmCpu.user + warmCpu.system) / 1e6 };
  for (const [status, count] of Object.entries(base.outcomes)) outcomes[status] = (outcomes[status] ?? 0) - count;
  const stats = eng.stats();
  eng.close();
  return {
    targets: n,
    rate,
    durationMs,
    sent: sent - base.sent,
    received: replies - base.replies,
    outcomes: Object.fromEntries(Object.entries(outcomes).filter(([, count]) => count > 0)),
    nonPositiveRtts: nonPositive - base.nonPositive,
    missed,
    maxLoopGapMs: maxGapMs,
    windows,
    windowMs,
    totalMs,
    cpuUserS: cpu.user / 1e6,
    cpuSystemS: cpu.system / 1e6,
    rssPeakMiB: rssPeak / 2 ** 20,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
    rttUs: summarize(rtts.slice(base.rtts)),
    /** What the warm-up cost (V8 compiles the hot paths in its first seconds). */
    warmup,
    engine: {
      /** @type {number} */
      sent: stats.sent - stats0.sent,
      /** @type {number} */
      received: stats.received - stats0.received,
      /** @type {number} */
      duplicates: stats.duplicates,
      /** @type {number} */
      late: stats.late,
      /** @type {number} */
      unmatched: stats.unmatched,
      /** @type {number} */
      socketErrors: stats.socketErrors,
      /** @type {string | undefined} the kind of socket IPv4 probes went through */
      socketKind: stats.socketKind[4],
    },
  };
}

/**
 * Sends `rate` probes/s over `targets` in turn for `durationMs`. Timers only decide when to send:
 * every tick sends what is due by now, but never more than 100 ms worth at once: a stalled loop
 * skips probes (passed to onTick) instead of bursting. A tick every millisecond, or every 10 probes
 * at low rates (the ticks themselves cost CPU).
 * @param {any} eng
 * @param {string[]} targets
 * @param {number} rate
 * @param {number} durationMs
 * @param {number} timeoutMs
 * @param {(outcome: Promise<any>) => void} onProbe each probe's outcome, as it is sent
 * @param {(now: number, gapMs: number, skipped: number) => void} onTick after each tick's sends
 * @returns {Promise<void>} once the last probe is sent
 */
function paced(eng, targets, rate, durationMs, timeoutMs, onProbe, onTick) {
  const burstCap = Math.max(1, Math.ceil(rate / 10));
  const tickMs = Math.max(1, Math.floor(10_000 / rate));
  const total = Math.floor((durationMs * rate) / 1000);
  const t0 = performance.now();
  let last = t0;
  let sent = 0;
  let missed = 0;
  return new Promise((resolve) => {
    const tick = () => {
      const now = performance.now();
      const elapsed = now - t0;
      let due = Math.min(Math.floor((elapsed * rate) / 1000), total) - missed;
      const skipped = Math.max(0, due - sent - burstCap);
      missed += skipped;
      due -= skipped;
      while (sent < due) {
        const address = targets[sent % targets.length];
        sent++;
        onProbe(eng.echo({ address, family: 4, timeoutMs }));
      }
      onTick(now, now - last, skipped);
      last = now;
      if (elapsed >= durationMs) resolve(undefined);
      else setTimeout(tick, tickMs);
    };
    tick();
  });
}

/** gc() without --expose-gc on the command line (the helper runner passes no node flags). */
function exposeGc() {
  setFlagsFromString('--expose-gc');
  return /** @type {() => void} */ (runInNewContext('gc'));
}
