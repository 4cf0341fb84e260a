// @ts-check
// Fastest endpoint (issue 16): CPU per set evaluation, and how often the leader flips on noise.
// Peer: a plain sort by score at every evaluation (what ranking without hysteresis does), fed the
// same scores in the same run. No probe tool ranks server sets, so that is the only peer there is.
import { loadDist } from './lib/dist.mjs';
import { runStandalone } from './lib/standalone.mjs';
import { fmt } from './lib/table.mjs';

const SIZES = [3, 10, 30, 100];
/** Evaluations per size: once a second for 10 minutes. */
const TICKS = 600;

/**
 * Scores per tick: target i scores 100 + 2 i ms (neighbours 2 % apart) with ±5 % noise, a
 * deterministic xorshift so both sides see the same numbers.
 * @param {number} size
 */
function* scores(size) {
  let x = 88172645;
  for (;;) {
    const tick = [];
    for (let i = 0; i < size; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      const noise = ((x >>> 0) / 4294967296 - 0.5) * 0.1;
      tick.push({ target: `t${i}`, scoreMs: (100 + 2 * i) * (1 + noise), successRatio: 1, class: 'good' });
    }
    yield tick;
  }
}

/** @typedef {{ update(t: number, s: unknown[]): { order: string[], previousLeader?: string | null } }} Ranker */

/**
 * @param {new (s: {margin: number, holdMs: number}) => Ranker} SetRanker
 * @param {number} size
 */
function measure(SetRanker, size) {
  const ranker = new SetRanker({ margin: 0.1, holdMs: 120_000 });
  const input = scores(size);
  const ticks = Array.from({ length: TICKS }, () => input.next().value ?? []);
  let ours = 0;
  let plain = 0;
  let plainLeader = '';
  const cpu0 = process.cpuUsage();
  ticks.forEach((tick, i) => {
    if (ranker.update(i * 1_000, tick).previousLeader !== undefined) ours++;
  });
  const oursCpu = process.cpuUsage(cpu0);
  const cpu1 = process.cpuUsage();
  for (const tick of ticks) {
    const leader = [...tick].sort((a, b) => a.scoreMs - b.scoreMs)[0]?.target ?? '';
    if (leader !== plainLeader) plain++;
    plainLeader = leader;
  }
  const plainCpu = process.cpuUsage(cpu1);
  const us = (/** @type {NodeJS.CpuUsage} */ c) => (c.user + c.system) / TICKS;
  return { size, ours: { cpuUs: us(oursCpu), leaders: ours }, plain: { cpuUs: us(plainCpu), leaders: plain } };
}

export async function run() {
  const { SetRanker } = await loadDist('ranking/set-ranker.js');
  const results = SIZES.map((size) => measure(SetRanker, size));
  return {
    title: `ranking: one set, ${TICKS} evaluations (10 minutes at 1/s), margin 0.1, hold 2m, in process`,
    sections: [
      {
        headers: [
          'targets',
          'vantage µs CPU / eval',
          'plain sort µs CPU / eval',
          'vantage leaders',
          'plain sort leaders',
        ],
        rows: results.map((r) => [
          r.size,
          fmt(r.ours.cpuUs, 1),
          fmt(r.plain.cpuUs, 1),
          r.ours.leaders,
          r.plain.leaders,
        ]),
        notes: [
          'scores: neighbours 2 % apart with ±5 % noise per evaluation;',
          '"leaders" counts leader changes, the first included',
          'the pair timers make an evaluation O(n²): sets are a handful of endpoints; 100 is the far end',
          'a shared 2-core machine: CPU figures are noisy; compare the columns of one run',
        ],
      },
    ],
    raw: results,
  };
}

/** @param {any} raw */
export function headline(raw) {
  const ten = raw.find((/** @type {any} */ r) => r.size === 10);
  return [
    [
      'ranking: CPU per evaluation, 10 targets',
      `${fmt(ten.ours.cpuUs, 1)} µs`,
      `${fmt(ten.plain.cpuUs, 1)} µs`,
      'plain sort',
    ],
    [
      'ranking: leader changes in 10 min of noise, 10 targets',
      `${ten.ours.leaders}`,
      `${ten.plain.leaders}`,
      'plain sort',
    ],
  ];
}

await runStandalone(import.meta.url, run);
