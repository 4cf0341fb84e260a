// @ts-check
// bench/metrics-exposition.mjs's settings: scales, engines, scrapes per scale, the server's gzip
// level and identity labels, and the shapes a child reports.

/** Series wanted at each scale (icmp: about 50 per target-IP, so 200, 2,000 and 10,000 targets). */
export const SCALES = [10_000, 100_000, 500_000];
export const ENGINES = /** @type {const} */ (['ours', 'prom-client']);
/**
 * Timed scrapes per encoding at each scale, after untimed warm-up scrapes (the JIT: an agent scrapes
 * every 15 s for weeks, so steady state is what counts; prom-client's are few, each takes seconds).
 */
export const SCRAPES = {
  ours: { warmup: 3, 10_000: 10, 100_000: 8, 500_000: 4 },
  'prom-client': { warmup: 1, 10_000: 5, 100_000: 3, 500_000: 2 },
};
/** What the agent's server uses (src/web/server.ts). */
export const GZIP_LEVEL = 1;
export const IDENTITY = {
  agent: 'bench-agent-01',
  region: 'eu-west-1',
  carrier: 'bench-carrier',
  network_type: 'datacenter',
};
export const MB = 1024 * 1024;

/** @typedef {typeof ENGINES[number]} Engine */
/** @typedef {10_000 | 100_000 | 500_000} Scale */
/**
 * Per-scrape measurements of one encoding.
 * @typedef {{
 *   loopMs: number[], threadMs: number[], blockMs: number[], wallMs: number[], cpuMs: number[], bytes: number,
 * }} Scrapes
 */
/**
 * What a child prints.
 * @typedef {{
 *   engine: Engine, targets: number, series: number, probeLinesHash: string,
 *   plain: Scrapes, gzip: Scrapes, afterRuns: Scrapes, gzip6Bytes: number | null,
 *   heapMB: number, buffersMB: number, rssMB: number, recordUs: number,
 * }} ChildResult
 */
