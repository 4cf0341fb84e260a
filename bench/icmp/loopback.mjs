// @ts-check
// a) loopback throughput: Vantage's engine paced and in a closed loop, fping and blackbox_exporter
// over the same distinct 127.x.y.z targets; a2) the sustained run past the engine's key memory.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startBlackbox } from '../lib/blackbox.mjs';
import { ROOT } from '../lib/dist.mjs';
import { execHelper, icmpProbe } from '../lib/helpers.mjs';
import { loopbackTarget } from '../lib/http.mjs';
import { execTracked, stopChild } from '../lib/proc.mjs';
import { fmt } from '../lib/table.mjs';
import { blackboxLoad, fping, per1k } from './peers.mjs';
import {
  BLACKBOX_ICMP_CONFIG,
  DURATION_MS,
  PEER_ROUNDS,
  RATE,
  SUSTAINED,
  TARGET_COUNTS,
  TIMEOUT_MS,
  WARMUP_MS,
} from './settings.mjs';

/** @import { LoopbackRow } from './peers.mjs' */
/** @import { Window } from '../icmp-probe/throughput.mjs' */
/** @typedef {Awaited<ReturnType<typeof import('../icmp-probe/throughput.mjs').throughput>>} Throughput */

/**
 * Turns a helper's throughput result into a row of the table.
 * @param {Throughput} r
 * @param {string} mode
 * @returns {LoopbackRow}
 */
function vantageRow(r, mode) {
  return {
    tool: 'vantage',
    mode,
    targets: r.targets,
    sent: r.sent,
    received: r.received,
    seconds: r.windowMs / 1000,
    cpuS: r.cpuUserS + r.cpuSystemS,
    rssMiB: r.rssPeakMiB,
    rttUs: r.rttUs,
    nonPositiveRtts: r.nonPositiveRtts,
    unmatched: r.engine.unmatched,
    missed: r.missed,
    outcomes: r.outcomes,
    warmupCpuPer1k: per1k(r.warmup),
  };
}

/**
 * Vantage's engine over `n` loopback targets for DURATION_MS at `rate` probes/s (0: closed loop).
 * @param {number} n
 * @param {number} rate
 * @param {string} mode
 */
async function vantage(n, rate, mode) {
  return vantageRow(
    await icmpProbe('throughput', {
      targets: n,
      rate,
      durationMs: DURATION_MS,
      timeoutMs: TIMEOUT_MS,
      warmupMs: WARMUP_MS,
    }),
    mode,
  );
}

/**
 * Raw socket (root) against ping socket (uid 65534, no capability) at `rate` over `n` loopback
 * targets, each in a network namespace of its own (`unshare --net`: gone with the process) whose
 * ping_group_range is open: the host's sysctl is left alone.
 * @param {number} n
 * @param {number} rate
 * @param {'raw' | 'datagram'} socket
 */
async function vantageUnshared(n, rate, socket) {
  const args = { targets: n, rate, durationMs: DURATION_MS, timeoutMs: TIMEOUT_MS, warmupMs: WARMUP_MS, socket };
  const json = JSON.stringify({
    ...args,
    unprivileged: socket === 'datagram',
    hardLimitMs: DURATION_MS + WARMUP_MS + 20_000,
  });
  const setup = 'ip link set lo up && sysctl -qw net.ipv4.ping_group_range="0 2147483647" && exec "$0" "$@"';
  const helper = join(ROOT, 'bench', '_icmp-probe.mjs');
  const r = await execTracked('unshare', ['--net', 'sh', '-c', setup, process.execPath, helper, 'throughput', json], {
    timeoutMs: DURATION_MS + WARMUP_MS + 25_000,
  });
  const result = /** @type {Throughput | undefined} */ (parseLine(r.stdout.trim().split('\n').at(-1) ?? ''));
  if (r.code !== 0 || !result) throw new Error(`_icmp-probe throughput (${socket}) exited ${r.code}: ${r.stderr}`);
  const kind = result.engine.socketKind;
  if (kind !== socket) throw new Error(`asked for a ${socket} socket, the engine opened ${kind}`);
  const who = socket === 'raw' ? 'raw socket, root' : 'ping socket, uid 65534';
  return vantageRow(result, `paced ${fmt(rate, 0)}/s, ${who} (own netns)`);
}

/**
 * The parts of a line the sustained helper streams: a window as it closes, then the whole result.
 * @param {string} line
 * @returns {{ window?: Window } & Partial<Throughput> | undefined}
 */
function parseLine(line) {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

/**
 * RATE probes/s for SUSTAINED.durationMs in windows; the helper streams each window, so a run that
 * stalls (and is killed SUSTAINED.killAfterStallMs after it should have ended) still reports.
 */
export async function sustainedRun() {
  const { targets, rate, durationMs, windowMs, killAfterStallMs } = SUSTAINED;
  const hardLimitMs = durationMs + killAfterStallMs + 10_000;
  const args = { targets, rate, durationMs, windowMs, timeoutMs: TIMEOUT_MS, hardLimitMs };
  const r = await execHelper('_icmp-probe.mjs', ['throughput', JSON.stringify(args)], {
    timeoutMs: durationMs + killAfterStallMs,
  });
  const lines = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map(parseLine)
    .filter((l) => l !== undefined);
  /** @type {Window[]} */
  const windows = lines.flatMap((l) => (l.window ? [l.window] : []));
  const summary = /** @type {Throughput | undefined} */ (lines.find((l) => !l.window));
  if (!summary && !r.timedOut)
    throw new Error(`_icmp-probe throughput (sustained) exited ${r.signal ?? r.code}:\n${r.stderr.slice(-3000)}`);
  const lastEndS = lastWindowEndS(windows);
  return {
    ...SUSTAINED,
    windows,
    summary,
    killed: r.timedOut,
    wallS: r.wallMs / 1000,
    silentForS: r.timedOut ? r.wallMs / 1000 - lastEndS : 0,
  };
}

/**
 * When the last window reported ended (s since the start); 0 when none did.
 * @param {readonly Window[]} windows
 */
export function lastWindowEndS(windows) {
  const last = windows.at(-1);
  return last ? last.startS + last.seconds : 0;
}

/**
 * The lowest send rate over the windows that lasted (nearly) a whole window; NaN when none did.
 * @param {{ windows: readonly Window[], windowMs: number }} sustained
 */
export function worstFullWindowRate(sustained) {
  const full = sustained.windows.filter((w) => w.seconds >= (sustained.windowMs / 1000) * 0.9);
  return full.length ? Math.min(...full.map((w) => w.sent / w.seconds)) : NaN;
}

/**
 * The run with the median CPU per probe of a tool's runs, with every run's figure (roundsPer1k).
 * @param {LoopbackRow[]} runs
 * @returns {LoopbackRow}
 */
function medianRun(runs) {
  // A run that sent nothing (NaN) sorts last.
  const sorted = [...runs].sort((a, b) => (per1k(a) || Infinity) - (per1k(b) || Infinity));
  const median = /** @type {LoopbackRow} */ (sorted[Math.floor((sorted.length - 1) / 2)]);
  return { ...median, mode: `${median.mode}, median of ${runs.length}`, roundsPer1k: runs.map(per1k) };
}

/**
 * Every tool over each of TARGET_COUNTS loopback targets, one after the other (Vantage paced and
 * fping interleaved, PEER_ROUNDS times).
 * @param {string} dir a temporary directory for target lists and tool output
 * @param {{ fping: boolean, blackbox: boolean, unshare?: boolean }} have
 */
export async function loopbackThroughput(dir, have) {
  /** @type {LoopbackRow[]} */
  const rows = [];
  const bb = have.blackbox ? await startBlackbox(dir, BLACKBOX_ICMP_CONFIG) : undefined;
  try {
    for (const n of TARGET_COUNTS) {
      const targetsFile = join(dir, `targets-${n}.txt`);
      await writeFile(targetsFile, `${Array.from({ length: n }, (_, i) => loopbackTarget(i)).join('\n')}\n`);
      /** @type {LoopbackRow[]} */
      const paced = [];
      /** @type {LoopbackRow[]} */
      const peer = [];
      for (let round = 0; round < PEER_ROUNDS; round++) {
        paced.push(await vantage(n, RATE, `paced ${fmt(RATE, 0)}/s`));
        if (have.fping) peer.push(await fping(targetsFile, n, dir));
      }
      rows.push(medianRun(paced));
      rows.push(await vantage(n, 0, 'closed loop (max)'));
      if (have.unshare)
        for (const socket of /** @type {const} */ (['raw', 'datagram']))
          rows.push(await vantageUnshared(n, RATE, socket));
      if (peer.length > 0) rows.push(medianRun(peer));
      if (bb) {
        const b = await blackboxLoad(bb, n);
        rows.push(b);
        if (n === TARGET_COUNTS[0] && b.received > 0) {
          // Vantage at blackbox_exporter's own rate: CPU per probe "at the same rate".
          const rate = Math.max(1, Math.round(b.sent / b.seconds));
          rows.push(await vantage(n, rate, `paced ${fmt(rate, 0)}/s (= blackbox_exporter)`));
        }
      }
    }
  } finally {
    if (bb) await stopChild(bb.child);
  }
  return rows;
}
