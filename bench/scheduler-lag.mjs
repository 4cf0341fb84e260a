// @ts-check
// Scheduler lag: 1,000 jobs every second for ~10 s in this process; lag = actual start - planned
// start. Peer: node-cron 4 with 1,000 `* * * * * *` tasks, lag = Date.now() - ctx.date.
import cron from 'node-cron';
import { loadDist } from './lib/dist.mjs';
import { delay } from './lib/http.mjs';
import { runStandalone } from './lib/standalone.mjs';
import { rounded, summarize } from './lib/stats.mjs';
import { fmt, statCells } from './lib/table.mjs';

/** @import { Cell } from './lib/table.mjs' */

const JOBS = 1000;
const INTERVAL_MS = 1000;
const DURATION_MS = 10_000;
const MAX_CONCURRENT = 64;
const AGENT_ID = 'bench';

/** @returns {Promise<void>} */
const tinyJob = () => new Promise((r) => setImmediate(r));

/** IntervalTrigger re-arms a timer that fires more than this early (its EARLY_TOLERANCE_NS). */
const EARLY_LIMIT_MS = 1;
/** @param {readonly number[]} lags */
const earlyBeyond = (lags) => lags.filter((l) => l < -EARLY_LIMIT_MS).length;

/**
 * How many runs started in each 100 ms slice of a second: shows whether load is spread.
 * @param {readonly number[]} offsetsMs
 */
function perSlice(offsetsMs) {
  /** @type {number[]} */
  const slices = new Array(10).fill(0);
  for (const ms of offsetsMs) {
    const i = Math.min(9, Math.floor((((ms % 1000) + 1000) % 1000) / 100));
    slices[i] = (slices[i] ?? 0) + 1;
  }
  return slices;
}

async function vantageScheduler() {
  const { Scheduler } = await loadDist('schedule/scheduler.js');
  const { IntervalTrigger } = await loadDist('schedule/interval-trigger.js');
  const { phaseOffsetMs } = await loadDist('schedule/offset.js');
  const { systemClock } = await loadDist('clock.js');

  /** @type {number[]} */
  const lags = [];
  /** @type {number[]} */
  const startWallMs = [];
  const skipped = { overlap: 0, missed: 0 };
  let failed = 0;
  const scheduler = new Scheduler(systemClock, MAX_CONCURRENT, {
    /**
     * @param {unknown} _job
     * @param {number} lagMs
     */
    started: (_job, lagMs) => {
      lags.push(lagMs);
      startWallMs.push(Date.now());
    },
    /**
     * @param {unknown} _job
     * @param {keyof typeof skipped} reason
     * @param {number} count
     */
    skipped: (_job, reason, count) => (skipped[reason] += count),
    failed: () => failed++,
  });
  /** @type {number[]} */
  const offsets = [];
  let stopped = true;
  try {
    for (let i = 0; i < JOBS; i++) {
      const name = `check-${i}`;
      const offset = phaseOffsetMs(AGENT_ID, name, INTERVAL_MS);
      offsets.push(offset);
      scheduler.add({
        name,
        timeoutMs: 900,
        trigger: new IntervalTrigger(systemClock, INTERVAL_MS, offset),
        run: tinyJob,
      });
    }
    stopped = false;
    await delay(DURATION_MS);
    const clean = await scheduler.stop(2000);
    stopped = true;
    return { lags, skipped, failed, clean, slices: perSlice(startWallMs), offsetSlices: perSlice(offsets) };
  } finally {
    if (!stopped) await scheduler.stop(2000);
  }
}

async function nodeCron() {
  /** @type {number[]} */
  const lags = [];
  /** @type {number[]} */
  const startWallMs = [];
  const skipped = { overlap: 0, missed: 0 };
  /** @type {ReturnType<typeof cron.schedule>[]} */
  const tasks = [];
  try {
    for (let i = 0; i < JOBS; i++) {
      const task = cron.schedule(
        '* * * * * *',
        (ctx) => {
          const now = Date.now();
          lags.push(now - ctx.date.getTime());
          startWallMs.push(now);
          return tinyJob();
        },
        { name: `check-${i}` },
      );
      // Listeners also keep node-cron from logging a warning per missed/overlapping run.
      task.on('execution:missed', () => void skipped.missed++);
      task.on('execution:overlap', () => void skipped.overlap++);
      tasks.push(task);
    }
    await delay(DURATION_MS);
  } finally {
    for (const t of tasks) await t.destroy();
  }
  return { lags, skipped, slices: perSlice(startWallMs) };
}

export async function run() {
  const ours = await vantageScheduler();
  // Let the last runs drain before the peer starts, so the two do not share the loop.
  await delay(200);
  const peer = await nodeCron();

  /**
   * @param {string} label
   * @param {{ lags: number[], skipped: { overlap: number, missed: number } }} r
   */
  const row = (label, r) => {
    const s = summarize(r.lags);
    return [
      label,
      s.count,
      ...statCells(s, ['min', 'p50', 'p90', 'p99', 'max'], 3),
      r.skipped.overlap,
      r.skipped.missed,
    ];
  };
  /**
   * @param {string} label
   * @param {number[]} slices
   */
  const sliceRow = (label, slices) => [label, ...slices];
  const expected = Math.round((JOBS * DURATION_MS) / INTERVAL_MS);
  return {
    title: `scheduler-lag: ${JOBS} jobs every ${INTERVAL_MS / 1000} s for ${DURATION_MS / 1000} s, in process`,
    sections: [
      {
        headers: ['scheduler', 'runs', 'min ms', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'skip overlap', 'skip missed'],
        rows: [row('vantage Scheduler', ours), row('node-cron 4.6', peer)],
        notes: [
          `about ${expected} runs expected in ${DURATION_MS / 1000} s; vantage: IntervalTrigger + ` +
            `phaseOffsetMs("${AGENT_ID}", check-N), max concurrency ${MAX_CONCURRENT}; job = one setImmediate`,
          'vantage lag = scheduler "started" event (monotonic, includes waiting for a run slot); ' +
            'node-cron lag = Date.now() - ctx.date (1 ms resolution)',
          `vantage failed runs: ${ours.failed}; stop(2s) clean: ${ours.clean}`,
          'vantage runs that started BEFORE their planned time (negative lag): ' +
            `${ours.lags.filter((l) => l < 0).length} of ${ours.lags.length}; by more than ${EARLY_LIMIT_MS} ms: ` +
            `${earlyBeyond(ours.lags)} (libuv timers count from a cached, whole-ms loop time and can fire up to ` +
            '~1 ms early against hrtime; IntervalTrigger accepts up to 1 ms early and re-arms beyond that)',
        ],
      },
      {
        heading: 'runs started per 100 ms slice of the second (wall clock), whole run:',
        headers: ['scheduler', ...Array.from({ length: 10 }, (_, i) => `.${i}xx`)],
        rows: [
          sliceRow('vantage (offsets)', ours.offsetSlices),
          sliceRow('vantage (starts)', ours.slices),
          sliceRow('node-cron', peer.slices),
        ],
        notes: [
          'node-cron fires all 1000 tasks in the same second at .000 (no spreading); ' +
            'vantage spreads them over the interval by the per-check phase offset',
          '"vantage (offsets)" is the 1000 configured offsets; "starts" counts every run',
        ],
      },
    ],
    raw: {
      jobs: JOBS,
      intervalMs: INTERVAL_MS,
      durationMs: DURATION_MS,
      maxConcurrent: MAX_CONCURRENT,
      vantage: {
        summary: rounded(summarize(ours.lags)),
        early: ours.lags.filter((l) => l < 0).length,
        earlyBeyondLimit: earlyBeyond(ours.lags),
        earlyLimitMs: EARLY_LIMIT_MS,
        skipped: ours.skipped,
        failed: ours.failed,
        stopClean: ours.clean,
        slices: ours.slices,
        offsetSlices: ours.offsetSlices,
      },
      nodeCron: { summary: rounded(summarize(peer.lags)), skipped: peer.skipped, slices: peer.slices },
    },
  };
}

/**
 * bench/scheduler-lag.mjs's lines in the suite's summary (bench/run.mjs): lag p50 and p99 next
 * to node-cron's, and the runs that started too early.
 * @param {Awaited<ReturnType<typeof run>>['raw']} l
 * @returns {Cell[][]}
 */
export function headline(l) {
  return [
    [
      'scheduler lag p50 ms (1000 jobs @ 1 s)',
      fmt(l.vantage.summary.p50, 3),
      fmt(l.nodeCron.summary.p50, 3),
      'node-cron 4',
    ],
    [
      'scheduler lag p99 ms (1000 jobs @ 1 s)',
      fmt(l.vantage.summary.p99, 3),
      fmt(l.nodeCron.summary.p99, 3),
      'node-cron 4',
    ],
    ['scheduler runs started > 1 ms early', fmt(l.vantage.earlyBeyondLimit, 0), '0', 'limit (IntervalTrigger)'],
  ];
}

await runStandalone(import.meta.url, run);
