// @ts-check
// Mode `trace` of bench/_icmp-probe.mjs (for bench/traceroute.mjs and the traceroute lab test):
// `runs` traces of one address with the agent's trace() on one warm engine, so no process start-up
// is in the numbers, remembering the path between traces as the warm check does (PathMemory: a
// first trace and every 10th wait in full, the others give known-silent hops up quickly);
// `remember: false` waits in full every time.
import { loadDist } from '../lib/dist.mjs';
import { delay as sleep } from '../lib/http.mjs';
import { warmEngine } from './engine.mjs';

/**
 * One hop of a warm trace, as the report reads it.
 * @typedef {{
 *   ttl: number, addresses: string[], answered: number, maxRttMs: number | null, unreachable?: string,
 * }} WarmHop
 */

/**
 * @param {{
 *   address: string, family?: 4 | 6, runs: number, maxHops?: number, probesPerHop?: number,
 *   probeTimeoutMs?: number, pauseMs?: number, hardLimitMs?: number, floorMs?: number, remember?: boolean,
 * }} args
 */
export async function traceMode({
  address,
  family = 4,
  runs,
  maxHops = 30,
  probesPerHop = 3,
  probeTimeoutMs = 1000,
  pauseMs = 50,
  floorMs,
  remember = true,
}) {
  const { trace } = await loadDist('checks/traceroute/trace.js');
  const { PathMemory } = await loadDist('checks/traceroute/path-memory.js');
  const memory = new PathMemory();
  const { systemClock } = await loadDist('clock.js');
  const eng = await warmEngine();
  const out = [];
  let lastAnswerAt = 0;
  // The engine as trace() sees it, noting when the last answer (reply or ICMP error) came in.
  const port = {
    /** @param {unknown} request */
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
    const recall = remember ? memory.recall(address) : undefined;
    const opts = {
      address,
      family,
      maxHops,
      probesPerHop,
      probeTimeoutMs,
      ...(floorMs === undefined ? {} : { floorMs }),
      ...(recall ? { recall } : {}),
    };
    const r = await trace(port, systemClock, opts);
    if (!r.failure) memory.learn(address, r, recall?.fullWait === false);
    /** @type {{ ttl: number, addresses: string[], rttMs: number[], unreachable?: string }[]} */
    const hops = r.hops;
    out.push({
      ms: performance.now() - t0,
      /** Whether this trace waited in full (no recall of the path yet, or its every-10th turn). */
      full: recall?.fullWait !== false,
      lastAnswerMs: lastAnswerAt - t0,
      /** @type {boolean} */
      reached: r.reached,
      /** @type {number} */
      lastRespondingHop: r.lastRespondingHop,
      hops: hops.map(
        (h) =>
          /** @type {WarmHop} */ ({
            ttl: h.ttl,
            addresses: h.addresses,
            answered: h.rttMs.length,
            maxRttMs: h.rttMs.length ? Math.max(...h.rttMs) : null,
            ...(h.unreachable ? { unreachable: h.unreachable } : {}),
          }),
      ),
    });
  }
  eng.close();
  return { address, probesPerHop, probeTimeoutMs, runs: out };
}
