// @ts-check
// One point of the scale benchmark: start the agent on a generated config, wait until it is ready,
// then for the point's duration read its /proc figures every second and scrape /metrics every
// scrape interval (one at a time, as Prometheus does), while WireLag stamps every icmp run on the
// wire; then stop it. Everything is bounded: start-up, each scrape, the run, the stop.
import { pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';
import { errorText } from '../lib/errors.mjs';
import { freePort, LOOPBACK, pollHttp, delay } from '../lib/http.mjs';
import { spawnTracked, stopChild } from '../lib/proc.mjs';
import { AGENT_ID, INTERVAL_MS, READY_TIMEOUT_MS, SAMPLE_MS, STOP_GRACE_MS } from './options.mjs';
import { procSample, readExposition, scrape } from './scrape.mjs';

/** @import { ScaleOptions } from './options.mjs' */
/** @import { PointConfig } from './setup.mjs' */
/** @import { Exposition, ProcSample, Scrape } from './scrape.mjs' */
/** @import { WireLag } from './wire-lag.mjs' */

/**
 * A scrape as kept: its timing and size, and the exposition's figures (none when it failed).
 * @typedef {{
 *   startNs: bigint, endNs: bigint, ms: number, headMs: number, wireBytes: number, bodyBytes: number,
 *   encoding: string, contentType: string, error: string | undefined, exposition: Exposition | undefined,
 * }} ScrapeRecord
 */

/**
 * Everything measured at one point; times are monotonic ns (bigint) or ms from `readyNs`.
 * @typedef {{
 *   config: Omit<PointConfig, 'icmpChecks' | 'file'>, durationMs: number, startupMs: number, startupCpuSec: number,
 *   readyNs: bigint, endNs: bigint, samples: ProcSample[], scrapes: ScrapeRecord[],
 *   wire: Array<{ plannedNs: bigint, lagMs: number }>, stopMs: number, exit: string, logTail: string,
 *   warnLines: number,
 * }} PointRun
 */

/**
 * The agent's phase offset of a check: from the build under test when it has the module (so the
 * benchmark follows the agent), else FNV-1a of agent id and name as src/schedule/offset.ts does.
 * @param {string} bin
 * @returns {Promise<(agentId: string, name: string, intervalMs: number) => number>}
 */
async function offsetFunction(bin) {
  try {
    const mod = await import(pathToFileURL(join(dirname(dirname(bin)), 'schedule', 'offset.js')).href);
    if (typeof mod.phaseOffsetMs === 'function') return mod.phaseOffsetMs;
  } catch {
    // fall through
  }
  return (agentId, name, intervalMs) => {
    let hash = 0x811c9dc5;
    for (const byte of Buffer.from(`${agentId}\u0000${name}`, 'utf8')) {
      hash ^= byte;
      hash = Math.imul(hash, 0x01000193) >>> 0;
    }
    return hash % Math.max(1, Math.floor(intervalMs));
  };
}

/**
 * A scrape as kept: the body reduced to its figures at once (85 MB bodies are not kept).
 * @param {Scrape} s
 * @returns {ScrapeRecord}
 */
function record(s) {
  return {
    startNs: s.startNs,
    endNs: s.endNs,
    ms: s.ms,
    headMs: s.headMs,
    wireBytes: s.wireBytes,
    bodyBytes: s.bodyBytes,
    encoding: s.encoding,
    contentType: s.contentType,
    error: s.error,
    exposition: s.body === undefined ? undefined : readExposition(s.body),
  };
}

/**
 * Runs one point for `durationMs` and returns what was measured.
 * @param {PointConfig} config
 * @param {number} durationMs
 * @param {ScaleOptions} opts
 * @param {{ wire: WireLag, serversPid: number | undefined, progress: (line: string) => void }} env
 * @returns {Promise<PointRun>}
 */
export async function measurePoint(config, durationMs, opts, { wire, serversPid, progress }) {
  const offset = await offsetFunction(opts.bin);
  wire.watch(config.icmpChecks.map((c) => ({ address: c.address, offsetMs: offset(AGENT_ID, c.name, INTERVAL_MS) })));
  const port = await freePort();
  const args = [
    ...opts.nodeArgs,
    opts.bin,
    ...['run', '-c', config.file, '--listen', `${LOOPBACK}:${port}`, '--log-level', 'warn', '--no-watch'],
  ];
  const t0 = process.hrtime.bigint();
  const child = spawnTracked(process.execPath, args, { env: { ...process.env, ...opts.agentEnv } });
  let warnLines = 0;
  child.stdout?.on('data', (chunk) => {
    for (const c of String(chunk)) if (c === '\n') warnLines++;
  });
  const pid = child.pid ?? -1;
  /** @type {ProcSample[]} */
  const samples = [];
  /** @type {ScrapeRecord[]} */
  const scrapes = [];
  try {
    await pollHttp({ port, path: '/readyz', ready: (r) => r.status === 200, timeoutMs: READY_TIMEOUT_MS, child });
    const readyNs = process.hrtime.bigint();
    const startupCpuSec = procSample(pid, serversPid)?.cpuSec ?? NaN;
    const endNs = readyNs + BigInt(durationMs) * 1_000_000n;
    const sampler = setInterval(() => {
      const s = procSample(pid, serversPid);
      if (s) samples.push(s);
    }, SAMPLE_MS);
    const first = procSample(pid, serversPid);
    if (first) samples.push(first);
    try {
      let nextScrapeNs = readyNs;
      let nextMinute = 1;
      while (process.hrtime.bigint() < endNs) {
        if (child.exitCode !== null || child.signalCode !== null)
          throw new Error(`the agent exited (${child.exitCode ?? child.signalCode}) during the run`);
        const s = await scrape(port);
        const kept = record(s);
        scrapes.push(kept);
        const { exposition } = kept;
        const elapsedMin = Number(process.hrtime.bigint() - readyNs) / 60e9;
        if (elapsedMin >= nextMinute) {
          const last = samples.at(-1);
          progress(
            `  ${config.icmp} icmp, minute ${nextMinute}: RSS ${((last?.rssBytes ?? NaN) / 2 ** 20).toFixed(0)} MiB, ` +
              `CPU ${(last?.cpuSec ?? NaN).toFixed(1)} s, series ${exposition?.series ?? '-'}, ` +
              `scrape ${s.ms.toFixed(0)} ms${s.error ? ` (${s.error})` : ''}`,
          );
          nextMinute = Math.floor(elapsedMin) + 1;
        }
        nextScrapeNs += BigInt(opts.scrapeMs) * 1_000_000n;
        // A scrape that ran past its slot is followed at once by the next (Prometheus skips none).
        const waitMs = Number(nextScrapeNs - process.hrtime.bigint()) / 1e6;
        const leftMs = Number(endNs - process.hrtime.bigint()) / 1e6;
        if (leftMs <= 0) break;
        if (waitMs > 0) await delay(Math.min(waitMs, leftMs));
      }
      // The closing reading at the end of the run (the last minute's figures).
      if (process.hrtime.bigint() >= endNs) {
        scrapes.push(record(await scrape(port)));
      }
    } finally {
      clearInterval(sampler);
    }
    const last = procSample(pid, serversPid);
    if (last) samples.push(last);
    const runEndNs = process.hrtime.bigint();
    const stopMs = await stopChild(child, STOP_GRACE_MS);
    const { code, signal } = await child.exited;
    return {
      config: { icmp: config.icmp, https: config.https, dns: config.dns },
      durationMs,
      startupMs: Number(readyNs - t0) / 1e6,
      startupCpuSec,
      readyNs,
      endNs: runEndNs,
      samples,
      scrapes,
      wire: wire.samples,
      stopMs,
      exit: String(signal ?? code),
      logTail: child.output().slice(-1500),
      warnLines,
    };
  } catch (err) {
    throw new Error(`${config.icmp} icmp targets: ${errorText(err)}\n--- the agent's output ---\n${child.output()}`);
  } finally {
    await stopChild(child, 2000);
  }
}
