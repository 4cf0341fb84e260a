// @ts-check
// Live memory per check, by kind and by what holds it: bench/_scale-memory.mjs builds the agent in a
// process of its own with FEW and then MANY checks of one kind, lets them run, and reads the memory
// (heap + external, after full GCs) while taking the pipeline apart; the growth from FEW to MANY checks is the cost
// of MANY - FEW checks, and each step's drop is what that piece held. Live data only: garbage between
// collections, V8's headroom and the renders' strings come on top in the agent's RSS.
import { dirname } from 'node:path';
import { helperJson } from '../lib/helpers.mjs';
import { fmt } from '../lib/table.mjs';
import { INTERVAL_MS } from './options.mjs';

/** @import { Section } from '../lib/table.mjs' */
/** @typedef {{ step: string, heapUsed: number, external: number, arrayBuffers: number, rss: number }} Reading */
/** @typedef {{ readings: Reading[], timers: number, seriesKept: number, finishedProbes: number }} MemoryOut */

export const FEW = 100;
export const MANY = 1100;
const KINDS = /** @type {const} */ (['icmp', 'https', 'dns']);

/**
 * Runs the helper for every kind at FEW and MANY checks.
 * @param {{ bin: string, dir: string, httpsPort: number, dnsPort: number, caFile: string }} p
 */
export async function perCheckMemory({ bin, dir, httpsPort, dnsPort, caFile }) {
  const dist = dirname(dirname(bin));
  /** @type {Record<string, { few: MemoryOut, many: MemoryOut }>} */
  const out = {};
  for (const kind of KINDS) {
    /** @param {number} n */
    const one = async (n) => {
      const counts = { icmp: 0, https: 0, dns: 0, [kind]: n };
      const args = { dist, dir, ...counts, httpsPort, dnsPort, caFile, waitMs: 2 * INTERVAL_MS + 1000 };
      return /** @type {MemoryOut} */ (
        await helperJson('_scale-memory.mjs', [JSON.stringify(args)], { timeoutMs: 120_000 })
      );
    };
    out[kind] = { few: await one(FEW), many: await one(MANY) };
  }
  return out;
}

/**
 * Bytes per check of one step of the helper's readings: how much more the MANY run dropped (or
 * grew, for the first two) than the FEW run, per extra check.
 * @param {{ few: MemoryOut, many: MemoryOut }} r
 * @param {number} from index of the earlier reading
 * @param {number} to index of the later reading
 * @param {'live' | 'external'} field live: heap used + external (Buffers, native allocations)
 */
function perCheck(r, from, to, field = 'live') {
  /** @param {Reading | undefined} x */
  const value = (x) => (x ? (field === 'live' ? x.heapUsed + x.external : x.external) : NaN);
  /** @param {MemoryOut} m */
  const delta = (m) => value(m.readings[from]) - value(m.readings[to]);
  return (delta(r.many) - delta(r.few)) / (MANY - FEW);
}

/**
 * The table: rows are what holds the memory, columns the kinds, cells bytes per check.
 * @param {Awaited<ReturnType<typeof perCheckMemory>>} out
 * @returns {Section}
 */
export function perCheckSection(out) {
  const runs = KINDS.flatMap((kind) => {
    const r = out[kind];
    return r ? [{ kind, r }] : [];
  });
  const steps = runs[0]?.r.many.readings.map((x) => x.step) ?? [];
  const running = steps.findIndex((s) => s.startsWith('running'));
  /**
   * A row: a label and one cell per kind.
   * @param {string} label
   * @param {(r: { few: MemoryOut, many: MemoryOut }) => number} value
   * @param {number} [digits]
   * @returns {import('../lib/table.mjs').Cell[]}
   */
  const row = (label, value, digits = 0) => [label, ...runs.map(({ r }) => fmt(value(r), digits))];
  /** @param {(m: MemoryOut) => number} f */
  const count = (f) => (/** @type {{ few: MemoryOut, many: MemoryOut }} */ r) => (f(r.many) - f(r.few)) / (MANY - FEW);
  const rows = [
    row('live memory per check (heap + external), all of it', (r) => -perCheck(r, 0, running)),
    row('  of which there before any run (config, checks, jobs)', (r) => -perCheck(r, 0, 1)),
  ];
  for (let i = running + 1; i < steps.length; i++) rows.push(row(`  ${steps[i]}`, (r) => perCheck(r, i - 1, i)));
  rows.push(
    row(
      '  not taken apart (remains at the end)',
      (r) => -perCheck(r, 0, running) - perCheck(r, running, steps.length - 1),
    ),
    row('  of the whole: external (Buffers, native)', (r) => -perCheck(r, 0, running, 'external')),
    row(
      'timers per check',
      count((m) => m.timers),
      2,
    ),
    row(
      'recorder series entries per check',
      count((m) => m.seriesKept),
      2,
    ),
    row(
      'ICMP finished-probe records per check',
      count((m) => m.finishedProbes),
      2,
    ),
  );
  return {
    heading:
      `live memory per check (bytes of heap + external; ${MANY} - ${FEW} checks of one kind, every 10 s, ` +
      'after full GCs)',
    headers: ['held by', ...runs.map(({ kind }) => kind)],
    rows,
    notes: [
      'each row after "all of it" is the drop when that piece is taken away, in this order; live data only ' +
        "(the RSS above also carries garbage between collections, V8 headroom and the renders' strings)",
    ],
  };
}
