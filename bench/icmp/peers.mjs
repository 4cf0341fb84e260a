// @ts-check
// The peers of the loopback throughput runs: fping at Vantage's offered rate under /usr/bin/time,
// and blackbox_exporter driven by concurrent /probe requests with its CPU read from /proc.
import { readFile } from 'node:fs/promises';
import { Agent } from 'node:http';
import { join } from 'node:path';
import { blackboxIcmpRttUs } from '../lib/blackbox.mjs';
import { httpGet, loopbackTarget } from '../lib/http.mjs';
import { execFileP, execTracked } from '../lib/proc.mjs';
import { summarize } from '../lib/stats.mjs';
import { BB_CONCURRENCY, BB_PROBES, DURATION_MS, RATE, TIME, TIMEOUT_MS } from './settings.mjs';

/** @import { Summary } from '../lib/stats.mjs' */
/** @import { TrackedChild } from '../lib/proc.mjs' */

/**
 * One row of the loopback table: a tool's run over `targets` addresses (vantage rows add the
 * engine's own counts).
 * @typedef {{
 *   tool: string, mode: string, targets: number, sent: number, received: number, seconds: number,
 *   cpuS: number, rssMiB: number, rttUs: Summary, nonPositiveRtts?: number, unmatched?: number,
 *   missed?: number, outcomes?: Record<string, number>, warmupCpuPer1k?: number, roundsPer1k?: number[],
 * }} LoopbackRow
 */

/** @type {number | undefined} */
let clockTicks;
async function clkTck() {
  if (clockTicks) return clockTicks;
  try {
    clockTicks = Number((await execFileP('getconf', ['CLK_TCK'])).stdout.trim()) || 100;
  } catch {
    clockTicks = 100;
  }
  return clockTicks;
}

/**
 * CPU seconds (user + system) a running process has used so far, from /proc/<pid>/stat.
 * @param {number | undefined} pid
 */
async function procCpuS(pid) {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / (await clkTck());
}

/**
 * VmRSS and VmHWM (peak) of a running process, MiB.
 * @param {number | undefined} pid
 */
async function procMemMiB(pid) {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  /** @param {string} key */
  const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

/**
 * CPU seconds per 1,000 probes sent; NaN when none were.
 * @param {{ cpuS: number, sent: number }} r
 */
export const per1k = (r) => (r.sent > 0 ? (r.cpuS / r.sent) * 1000 : NaN);

/**
 * fping over the `n` targets listed in `targetsFile` at the same offered rate as Vantage's paced
 * run: one packet every 1e3/RATE ms overall, so each target every n/RATE s; as many rounds as fit
 * in DURATION_MS.
 * @param {string} targetsFile
 * @param {number} n
 * @param {string} dir where /usr/bin/time writes its figures
 * @returns {Promise<LoopbackRow>}
 */
export async function fping(targetsFile, n, dir) {
  const periodMs = Math.max(10, Math.round((n / RATE) * 1000));
  const count = Math.max(1, Math.round(DURATION_MS / periodMs));
  const timeFile = join(dir, `fping-${n}.time`);
  const args = ['-o', timeFile, '-f', '%U %S %M %e', 'fping', '-C', String(count), '-q', '-i', String(1000 / RATE)];
  args.push('-p', String(periodMs), '-t', String(TIMEOUT_MS), '-f', targetsFile);
  const r = await execTracked(TIME, args, { timeoutMs: 120_000 });
  if (r.timedOut || (r.code !== 0 && r.code !== 1))
    throw new Error(`fping exited ${r.signal ?? r.code}:\n${r.stderr.slice(-2000)}`);
  const timeLine = (await readFile(timeFile, 'utf8')).trim().split('\n').at(-1) ?? '';
  const [user = NaN, system = NaN, maxRssKb = NaN, elapsed = NaN] = timeLine.split(' ').map(Number);
  const rtts = [];
  let sent = 0;
  let lost = 0;
  for (const line of r.stderr.split('\n')) {
    const m = /^(\S+)\s+:\s+(.*)$/.exec(line.trim());
    if (!m) continue;
    for (const v of (m[2] ?? '').trim().split(/\s+/)) {
      sent++;
      if (v === '-') lost++;
      else rtts.push(Number(v) * 1000);
    }
  }
  if (sent !== n * count)
    throw new Error(`fping: expected ${n * count} results, parsed ${sent}:\n${r.stderr.slice(0, 1000)}`);
  return {
    tool: 'fping',
    mode: `-C ${count} -i ${1000 / RATE} -p ${periodMs}`,
    targets: n,
    sent,
    received: sent - lost,
    seconds: elapsed,
    cpuS: user + system,
    rssMiB: maxRssKb / 1024,
    rttUs: summarize(rtts),
  };
}

/**
 * BB_PROBES /probe requests, BB_CONCURRENCY at a time, over the first `n` loopback targets in turn.
 * @param {{ port: number, child: TrackedChild }} bb
 * @param {number} n
 * @returns {Promise<LoopbackRow>}
 */
export async function blackboxLoad(bb, n) {
  const agent = new Agent({ keepAlive: true, maxSockets: BB_CONCURRENCY });
  /** @param {string} target */
  const get = async (target) => (await httpGet(bb.port, `/probe?module=icmp&target=${target}`, 10_000, agent)).body;
  /** @type {number[]} */
  const rtts = [];
  let next = 0;
  let ok = 0;
  let failed = 0;
  const cpu0 = await procCpuS(bb.child.pid);
  const t0 = performance.now();
  const deadline = t0 + 60_000;
  await Promise.all(
    Array.from({ length: BB_CONCURRENCY }, async () => {
      while (next < BB_PROBES && performance.now() < deadline) {
        const target = loopbackTarget(next++ % n);
        try {
          const rtt = blackboxIcmpRttUs(await get(target));
          if (rtt !== null) {
            ok++;
            rtts.push(rtt);
          } else failed++;
        } catch {
          failed++;
        }
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const cpuS = (await procCpuS(bb.child.pid)) - cpu0;
  agent.destroy();
  const mem = await procMemMiB(bb.child.pid);
  return {
    tool: 'blackbox_exporter',
    mode: `${BB_CONCURRENCY} concurrent /probe`,
    targets: n,
    sent: ok + failed,
    received: ok,
    seconds,
    cpuS,
    rssMiB: mem.hwm,
    rttUs: summarize(rtts),
  };
}
