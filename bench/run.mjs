// @ts-check
// The benchmark suite: runs every benchmark in turn, prints its tables, a summary of the headline
// numbers next to the peers', limits or lab ground truth, and writes the raw numbers to
// bench/results/latest.json. `npm run bench` builds dist/ first; `node bench/run.mjs` uses whatever
// is in dist/. The lab benchmark compiles the network lab itself when its build is missing or stale.
// Each benchmark file exports run() (which returns its tables and raw numbers) and, when it has
// numbers for the summary, headline(raw); lib/ holds what they share, and a benchmark too large
// for one file keeps its parts in a folder of its name (icmp/, lab/, traceroute/).
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import * as cliPhases from './cli-phases.mjs';
import * as configReload from './config-reload.mjs';
import * as diagnose from './diagnose.mjs';
import * as dns from './dns.mjs';
import * as https from './https.mjs';
import * as icmp from './icmp.mjs';
import * as lab from './lab.mjs';
import { ROOT, warnIfStale } from './lib/dist.mjs';
import { errorText } from './lib/errors.mjs';
import { installExitCleanup, killAllChildren } from './lib/proc.mjs';
import { fmt, printResult, table } from './lib/table.mjs';
import * as metricsExposition from './metrics-exposition.mjs';
import * as metricsRender from './metrics-render.mjs';
import * as quality from './quality.mjs';
import * as ranking from './ranking.mjs';
import * as scale from './scale.mjs';
import * as schedulerLag from './scheduler-lag.mjs';
import * as startup from './startup.mjs';
import * as tcpConnect from './tcp-connect.mjs';
import * as traceroute from './traceroute.mjs';
import * as webEndpoint from './web-endpoint.mjs';

/** @import { BenchResult, Cell } from './lib/table.mjs' */

/**
 * A benchmark of the suite: its name, and a run that returns the result (to print) and its headline
 * rows for the summary: measure, measured, reference, what the reference is (a peer, a limit, the
 * lab's truth).
 * @typedef {{
 *   name: string, run: () => Promise<{ result: BenchResult<unknown>, headline: () => Cell[][] }>,
 * }} Benchmark
 */

/**
 * Pairs a benchmark module's run() with its headline(), which reads the raw numbers that run returned.
 * @template R
 * @param {string} name
 * @param {{ run: () => Promise<BenchResult<R>>, headline?: (raw: NonNullable<R>) => Cell[][] }} mod
 * @returns {Benchmark}
 */
function benchmark(name, mod) {
  return {
    name,
    run: async () => {
      const result = await mod.run();
      const raw = result.raw;
      return { result, headline: () => (raw !== undefined && raw !== null && mod.headline ? mod.headline(raw) : []) };
    },
  };
}

/** In order: the summary lists the headlines in this order too. */
const BENCHMARKS = [
  benchmark('startup', startup),
  benchmark('scheduler-lag', schedulerLag),
  benchmark('quality', quality),
  benchmark('ranking', ranking),
  benchmark('metrics-render', metricsRender),
  benchmark('metrics-exposition', metricsExposition),
  benchmark('config-reload', configReload),
  benchmark('tcp-connect', tcpConnect),
  benchmark('web-endpoint', webEndpoint),
  benchmark('cli-phases', cliPhases),
  benchmark('lab', lab),
  benchmark('icmp', icmp),
  benchmark('traceroute', traceroute),
  benchmark('dns', dns),
  benchmark('https', https),
  benchmark('diagnose', diagnose),
  // 18 minutes in full; SCALE_QUICK=1 runs it in about 3.
  benchmark('scale', scale),
];

/**
 * The output of `git ARGS` in the repo, trimmed.
 * @param {string[]} args
 */
const git = (args) =>
  execFileSync('git', args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] })
    .toString()
    .trim();

/** The commit the numbers are for, marked when src/ has uncommitted changes. */
function gitCommit() {
  try {
    const sha = git(['rev-parse', '--short', 'HEAD']);
    const dirty = git(['status', '--porcelain', '--', 'src']);
    return dirty ? `${sha}+dirty-src` : sha;
  } catch {
    return 'unknown';
  }
}

async function main() {
  installExitCleanup();
  warnIfStale();
  const startedAt = new Date();
  const env = {
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpus: `${cpus().length} x ${cpus()[0]?.model ?? '?'}`,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    commit: gitCommit(),
  };
  process.stdout.write(
    `Vantage benchmarks — ${startedAt.toISOString()} — node ${env.node}, ${env.cpus}, commit ${env.commit}\n\n`,
  );

  /** @type {Record<string, { durationMs: number, raw?: unknown, error?: string }>} */
  const results = {};
  /** @type {Cell[][]} */
  const headlines = [];
  let failures = 0;
  const t0 = performance.now();
  for (const { name, run } of BENCHMARKS) {
    const b0 = performance.now();
    try {
      const { result, headline } = await run();
      printResult(result);
      results[name] = { durationMs: Math.round(performance.now() - b0), raw: result.raw };
      headlines.push(...headline());
    } catch (err) {
      failures++;
      process.stdout.write(`== ${name}: FAILED ==\n${errorText(err)}\n\n`);
      results[name] = { durationMs: Math.round(performance.now() - b0), error: errorText(err) };
    } finally {
      await killAllChildren();
    }
  }
  const totalMs = performance.now() - t0;

  process.stdout.write('== summary (same run) ==\n');
  process.stdout.write(`${table(['measure', 'measured', 'reference', 'reference is'], headlines)}\n`);
  const took = BENCHMARKS.map(({ name }) => `${name} ${fmt((results[name]?.durationMs ?? 0) / 1000, 1)} s`).join(', ');
  process.stdout.write(`\nsuite took ${fmt(totalMs / 1000, 1)} s (${took}); ${failures} benchmark(s) failed\n`);

  const dir = join(ROOT, 'bench', 'results');
  await mkdir(dir, { recursive: true });
  const file = join(dir, 'latest.json');
  await writeFile(
    file,
    `${JSON.stringify({ startedAt: startedAt.toISOString(), totalMs: Math.round(totalMs), env, results }, null, 2)}\n`,
  );
  process.stdout.write(`raw numbers: ${file}\n`);
  if (failures > 0) process.exitCode = 1;
}

await main();
