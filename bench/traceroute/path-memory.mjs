// @ts-check
// What a warm traceroute check keeps per traced IP (PathMemory, README "traceroute"), measured on
// the heap: live bytes after a full collection with 10,000 IPs remembered, minus before.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { loadDist } from '../lib/dist.mjs';

const TARGETS = 10_000;

/**
 * Live heap bytes per remembered IP for paths of each length in `hopCounts` (hop 5 silent), after
 * one full-wait trace and one quick trace of each IP (the quick one merges into the first).
 * @param {number[]} hopCounts
 */
export async function pathMemoryBytes(hopCounts = [10, 30, 64]) {
  const { PathMemory } = await loadDist('checks/traceroute/path-memory.js');
  const { routeHash } = await loadDist('checks/traceroute/trace.js');
  setFlagsFromString('--expose-gc');
  /** Full collection: the flag above makes `gc` a global of contexts created after it. */
  const gc = /** @type {() => void} */ (runInNewContext('gc'));
  const addresses = Array.from({ length: TARGETS }, (_, i) => `192.0.${(i >> 8) & 255}.${i & 255}`);
  /**
   * One complete trace of IP `i`, made afresh so that only what the memory keeps of it stays live.
   * @param {number} i
   * @param {number} hopCount
   */
  const traced = (i, hopCount) => {
    const hops = Array.from({ length: hopCount }, (_, t) => {
      const silent = t === 4;
      const address = `10.${(i >> 8) & 255}.${i & 255}.${t}`;
      return { ttl: t + 1, addresses: silent ? [] : [address], rttMs: silent ? [] : [1 + t, 2 + t], loss: 0 };
    });
    return { reached: true, hops, routeHash: routeHash(hops), lastRespondingHop: hopCount };
  };
  /**
   * Live bytes per IP of a memory of paths `hopCount` long; the memory dies with this call, so the
   * next one starts without it.
   * @param {number} hopCount
   */
  const measure = (hopCount) => {
    gc();
    const before = process.memoryUsage().heapUsed;
    const memory = new PathMemory();
    for (let i = 0; i < TARGETS; i++) memory.learn(addresses[i], traced(i, hopCount), false);
    for (let i = 0; i < TARGETS; i++) memory.learn(addresses[i], traced(i, hopCount), true);
    gc();
    const bytesPerTarget = Math.round((process.memoryUsage().heapUsed - before) / TARGETS);
    return { hops: hopCount, bytesPerTarget, targets: memory.size };
  };
  // The first pass also compiles and warms the code it runs: measured, then dropped.
  const out = [hopCounts[0] ?? 10, ...hopCounts].map(measure);
  return out.slice(1);
}
