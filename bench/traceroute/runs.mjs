// @ts-check
// The traceroute runs: every tool on one target from inside the lab's agent namespace, Vantage as a
// fresh CLI process and as trace() on a warm engine (bench/_icmp-probe.mjs), the peers as installed.
import { VANTAGE_BIN } from '../lib/dist.mjs';
import { icmpProbe } from '../lib/helpers.mjs';
import { execTracked } from '../lib/proc.mjs';
import { parseMtr, parseTraceroute } from './hops.mjs';

/** @import { Lab } from '../lib/lab.mjs' */
/** @import { Hop } from './hops.mjs' */

export const RUNS = 3;
/** Twelve: the warm runs remember the path, so two of them (the first, the 11th) wait in full. */
export const WARM_RUNS = 12;
const TOOL_TIMEOUT_MS = 120_000;
/** Vantage's default probe_timeout (README); the CLI runs use the defaults, the warm runs pass it. */
export const VANTAGE_TIMEOUT_MS = 1000;
export const REFERENCE = 'traceroute -I -n';
export const VANTAGE_CLI = 'vantage probe traceroute';

/**
 * One run of one tool: its wall time and hop list, or why it has none.
 * @typedef {{
 *   tool: string, wallMs: number, error?: string, hops?: Hop[], reached?: boolean, traceMs?: number,
 *   code?: string,
 * }} ToolRun
 */

/** @typedef {{ name: string, bin: string, argv: (target: string) => string[], parse: (out: string) => Hop[] }} Peer */

/** @type {Peer[]} */
const PEERS = [
  { name: REFERENCE, bin: 'traceroute', argv: (t) => ['traceroute', '-I', '-n', t], parse: parseTraceroute },
  {
    name: 'traceroute -I -n -N 32',
    bin: 'traceroute',
    argv: (t) => ['traceroute', '-I', '-n', '-N', '32', t],
    parse: parseTraceroute,
  },
  { name: 'mtr -r -n -c 1', bin: 'mtr', argv: (t) => ['mtr', '-r', '-n', '-c', '1', t], parse: parseMtr },
  {
    name: 'scamper icmp-paris',
    bin: 'scamper',
    argv: (t) => ['scamper', '-c', 'trace -P icmp-paris', '-i', t],
    parse: parseTraceroute,
  },
];

/**
 * @param {Lab} lab
 * @param {Peer} peer
 * @param {string} target
 * @returns {Promise<ToolRun>}
 */
async function runPeer(lab, peer, target) {
  const ns = lab.truth.namespaces.agent;
  const r = await execTracked('ip', ['netns', 'exec', ns, ...peer.argv(target)], { timeoutMs: TOOL_TIMEOUT_MS });
  if (r.timedOut) return { tool: peer.name, wallMs: r.wallMs, error: `killed after ${TOOL_TIMEOUT_MS / 1000} s` };
  const hops = peer.parse(r.stdout);
  if (hops.length === 0)
    return {
      tool: peer.name,
      wallMs: r.wallMs,
      error: `exit ${r.signal ?? r.code}, no hops: ${(r.stderr || r.stdout).trim().slice(0, 300)}`,
    };
  return { tool: peer.name, wallMs: r.wallMs, hops, reached: hops.some((h) => h.addresses.includes(target)) };
}

/**
 * `vantage probe traceroute TARGET --json` in a fresh process: wall time and the record's trace phase.
 * @param {Lab} lab
 * @param {string} target
 * @returns {Promise<ToolRun>}
 */
async function runVantageCli(lab, target) {
  const ns = lab.truth.namespaces.agent;
  const r = await execTracked(
    'ip',
    ['netns', 'exec', ns, process.execPath, VANTAGE_BIN, 'probe', 'traceroute', target, '--json'],
    { timeoutMs: 30_000 },
  );
  const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
  if (!line)
    return {
      tool: VANTAGE_CLI,
      wallMs: r.wallMs,
      error: `exit ${r.signal ?? r.code}: ${(r.stderr || r.stdout).trim().slice(0, 300)}`,
    };
  /**
   * The CLI's JSON record, as far as it is read here.
   * @type {{ phasesMs?: { trace?: number }, hops?: { ttl: number, addresses: string[], unreachable?: string,
   *   rttMs: number[] }[], reached: boolean, error?: { code: string } }}
   */
  const rec = JSON.parse(line);
  return {
    tool: VANTAGE_CLI,
    wallMs: r.wallMs,
    traceMs: rec.phasesMs?.trace,
    hops: (rec.hops ?? []).map((h) => ({
      ttl: h.ttl,
      addresses: h.addresses,
      unreachable: Boolean(h.unreachable),
      answered: h.rttMs.length,
    })),
    reached: rec.reached,
    code: rec.error?.code,
  };
}

/**
 * WARM_RUNS traces with trace() on one warm engine in the agent namespace.
 * @param {Lab} lab
 * @param {string} target
 * @param {number} probesPerHop
 */
async function runVantageWarm(lab, target, probesPerHop) {
  const args = { address: target, runs: WARM_RUNS, probesPerHop, probeTimeoutMs: VANTAGE_TIMEOUT_MS };
  return (await icmpProbe('trace', args, { ns: lab.truth.namespaces.agent, timeoutMs: 62_000 })).runs;
}

/** @typedef {Awaited<ReturnType<typeof runVantageWarm>>} WarmRuns */

/**
 * Every tool on one target: vantage CLI and peers RUNS times (peers once when `peersOnce`), vantage
 * warm WARM_RUNS times per entry of `warmProbesPerHop`.
 * @param {Lab} lab
 * @param {string} label
 * @param {string} target
 * @param {Record<string, boolean>} have which peer binaries are installed
 * @param {{ peersOnce?: boolean, concurrentPeers?: boolean, warmProbesPerHop?: number[] }} [options]
 */
export async function traceTarget(
  lab,
  label,
  target,
  have,
  { peersOnce = false, concurrentPeers = false, warmProbesPerHop = [3] } = {},
) {
  /** @type {{ label: string, target: string, tools: Record<string, ToolRun[]>, warm: Record<string, WarmRuns> }} */
  const results = { label, target, tools: {}, warm: {} };
  /** @param {ToolRun} r */
  const add = (r) => (results.tools[r.tool] ??= []).push(r);
  for (let i = 0; i < RUNS; i++) add(await runVantageCli(lab, target));
  for (const p of warmProbesPerHop) results.warm[p] = await runVantageWarm(lab, target, p);
  const peers = PEERS.filter((p) => have[p.bin]);
  /** @param {Peer} p */
  const slow = (p) => p.bin === 'mtr' || p.bin === 'scamper';
  if (concurrentPeers) {
    // Waiting out timeouts dominates every peer here: running them side by side changes little but
    // saves minutes. One run each.
    for (const r of await Promise.all(peers.map((p) => runPeer(lab, p, target)))) add(r);
  } else {
    for (const p of peers) {
      const n = peersOnce || slow(p) ? 1 : RUNS;
      for (let i = 0; i < n; i++) add(await runPeer(lab, p, target));
    }
  }
  return results;
}

/** @typedef {Awaited<ReturnType<typeof traceTarget>>} TargetResults */
