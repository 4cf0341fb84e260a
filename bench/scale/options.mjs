// @ts-check
// What bench/scale.mjs runs: points (icmp targets, plus a tenth as many https and dns checks each),
// how long, how often it scrapes, and the aims of issue 13 it prints beside the measured values.
// Every knob is an argument or an environment variable:
//   --quick | SCALE_QUICK=1           the largest point for 2 min, the others 30 s each
//   --duration=D | SCALE_DURATION     the largest point (default 10m; 600, 90s, 2m30s)
//   --small-duration=D | SCALE_SMALL_DURATION   the smaller points (default 2m; quick 30s)
//   --points=1000,5000,10000 | SCALE_POINTS      icmp targets per point
//   --scrape-interval=D | SCALE_SCRAPE_INTERVAL  (default 15s, Prometheus's habit)
//   --max-concurrent-runs=N | SCALE_MAX_CONCURRENT   written into the config (default: the agent's)
//   --per-check=0|1 | SCALE_PER_CHECK  live heap per check by kind and holder (default 1; quick 0)
//   --bin=FILE | VANTAGE_BIN          another build's dist/bin/vantage.cjs (default this repo's)
//   --bare=0|1 | SCALE_BARE           start the agent with plain `node`, not as `npm start` does
//                                     (its environment and Node flags: bench/lib/agent-runtime.mjs)
//   SCALE_NODE_ARGS="--heap-prof ..." node flags for the agent (profiling), after npm start's
import { agentRuntime } from '../lib/agent-runtime.mjs';
import { VANTAGE_BIN } from '../lib/dist.mjs';

export const AGENT_ID = 'scale';
/** Every check's interval (issue 13: "1 IP each, every 10 s"). */
export const INTERVAL_MS = 10_000;
/** Scrape timeout: Prometheus's default scrape_timeout. */
export const SCRAPE_TIMEOUT_MS = 10_000;
/** https and dns checks per icmp check (1,000 each beside 10,000 icmp). */
export const MIX = 0.1;
/** Waiting for /readyz after spawn (12,000 checks are parsed and built first). */
export const READY_TIMEOUT_MS = 180_000;
/** SIGTERM -> exit, before SIGKILL. */
export const STOP_GRACE_MS = 20_000;
/** The agent's /proc figures are read this often (RSS peak, CPU per minute, fds). */
export const SAMPLE_MS = 1000;

/** Issue 13's aims for 10,000 icmp + 1,000 https + 1,000 dns on this machine. */
export const AIMS = {
  rssMb: 300,
  /** "Flat": RSS of the last minute at most this far above the second minute's, per minute of run. */
  rssGrowthMbPerMin: 1,
  lagP99Ms: 5,
  skipped: 0,
  cores: 1,
};

/**
 * A duration: `600` (seconds), `90s`, `10m`, `2m30s`, `1h`; undefined when it is not one.
 * @param {string | undefined} text
 */
export function parseDurationMs(text) {
  if (text === undefined || text === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  /** @type {Record<string, number>} */
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  let end = 0;
  for (const m of text.matchAll(re)) {
    total += Number(m[1]) * (unit[m[2] ?? 's'] ?? 1000);
    end = (m.index ?? 0) + m[0].length;
  }
  return end === text.length && end > 0 ? total : undefined;
}

/**
 * @typedef {{
 *   quick: boolean, points: number[], durationMs: number, smallDurationMs: number, scrapeMs: number,
 *   maxConcurrent: number | undefined, bin: string, nodeArgs: string[], perCheck: boolean,
 *   bare: boolean, agentEnv: Record<string, string>,
 * }} ScaleOptions
 */

/**
 * The options from `--name=value` arguments, else the environment, else the defaults.
 * @param {readonly string[]} argv
 * @param {NodeJS.ProcessEnv} env
 * @returns {ScaleOptions}
 */
export function scaleOptions(argv = process.argv.slice(2), env = process.env) {
  /** @param {string} name @param {string} envName */
  const get = (name, envName) => {
    const arg = argv.find((a) => a === `--${name}` || a.startsWith(`--${name}=`));
    if (arg !== undefined) return arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : '1';
    return env[envName];
  };
  /** @param {string} name @param {string} envName @param {number} fallback */
  const duration = (name, envName, fallback) => {
    const text = get(name, envName);
    const ms = parseDurationMs(text);
    if (text !== undefined && ms === undefined) throw new Error(`--${name} / ${envName}: "${text}" is no duration`);
    return ms ?? fallback;
  };
  const quick = ['1', 'true', 'yes'].includes(get('quick', 'SCALE_QUICK') ?? '');
  const points = (get('points', 'SCALE_POINTS') ?? '1000,5000,10000')
    .split(',')
    .map((p) => Number(p.trim()))
    .filter((n) => Number.isInteger(n) && n > 0 && n <= 64_000)
    .sort((a, b) => a - b);
  if (points.length === 0) throw new Error('--points / SCALE_POINTS: no icmp target count between 1 and 64,000');
  const concurrency = get('max-concurrent-runs', 'SCALE_MAX_CONCURRENT');
  const bare = ['1', 'true', 'yes'].includes(get('bare', 'SCALE_BARE') ?? '');
  const runtime = bare ? { env: {}, nodeArgs: [] } : agentRuntime();
  return {
    quick,
    points,
    durationMs: duration('duration', 'SCALE_DURATION', quick ? 120_000 : 600_000),
    smallDurationMs: duration('small-duration', 'SCALE_SMALL_DURATION', quick ? 30_000 : 120_000),
    scrapeMs: duration('scrape-interval', 'SCALE_SCRAPE_INTERVAL', 15_000),
    maxConcurrent: concurrency === undefined ? undefined : Number(concurrency),
    bin: get('bin', 'VANTAGE_BIN') ?? VANTAGE_BIN,
    perCheck: ['1', 'true', 'yes'].includes(get('per-check', 'SCALE_PER_CHECK') ?? (quick ? '0' : '1')),
    nodeArgs: [...runtime.nodeArgs, ...(env.SCALE_NODE_ARGS ?? '').split(' ').filter((a) => a !== '')],
    bare,
    agentEnv: runtime.env,
  };
}
