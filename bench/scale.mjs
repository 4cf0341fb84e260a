// @ts-check
// One agent at scale (issue 13): the real agent (`vantage run`) with 10,000 icmp checks (count 1,
// one distinct 127.210.y.z address each), 1,000 https and 1,000 dns checks against local servers
// (bench/_scale-servers.mjs on 127.0.0.1), all every 10 s, scraped every 15 s as Prometheus would
// (OpenMetrics asked for, gzip accepted, 10 s timeout). Per minute: RSS, heap used, CPU seconds
// (/proc/<pid>/stat), fds, series, scrape time and bytes; the scheduler's start lag (p50/p99 from
// vantage_scheduler_lag_seconds, and the share over 5 ms), every icmp run's lag on the wire (a raw
// socket of ours sees each echo reply: scale/wire-lag.mjs), split out for runs planned while a
// scrape was being served; runs per second and runs skipped. Smaller points (1,000 and 5,000 icmp,
// a tenth as many https and dns) show the trend. The aims of issue 13 are printed beside the figures.
// Options (scale/options.mjs): --quick (2 min; smaller points 30 s), --duration=10m,
// --points=1000,5000,10000, --bin=…, SCALE_NODE_ARGS for profiling flags. Needs root (raw ICMP).
// Traffic: 127.0.0.0/8 only. The agent and the servers are killed at exit and on SIGINT/SIGTERM.
import { existsSync } from 'node:fs';
import { makeTempDir, missingTool, removeTempDir, stopChild } from './lib/proc.mjs';
import { runStandalone } from './lib/standalone.mjs';
import { fmt } from './lib/table.mjs';
import { measurePoint } from './scale/measure.mjs';
import { FEW, MANY, perCheckMemory, perCheckSection } from './scale/per-check.mjs';
import { AIMS, INTERVAL_MS, scaleOptions, STOP_GRACE_MS, READY_TIMEOUT_MS } from './scale/options.mjs';
import { aimRows, minuteSections, pointFigures, TREND_HEADERS, trendRow } from './scale/report.mjs';
import { pointMix, startServers, writeCertificate, writePointConfig } from './scale/setup.mjs';
import { WireLag } from './scale/wire-lag.mjs';

/** @import { BenchResult, Cell, Section } from './lib/table.mjs' */
/** @import { PointRun } from './scale/measure.mjs' */

/**
 * The raw numbers kept in bench/results/latest.json: per point, the figures of each minute and of the
 * whole run (bigints left out).
 * @typedef {ReturnType<typeof pointFigures>} PointFigures
 * @typedef {{ config: PointRun['config'], durationMs: number, startupMs: number } & PointFigures} PointRaw
 * @typedef {{
 *   options: { points: number[], durationMs: number, smallDurationMs: number, scrapeMs: number, quick: boolean },
 *   points: PointRaw[],
 *   maxClockDriftUs: number, perCheck: Awaited<ReturnType<typeof perCheckMemory>> | undefined,
 * } | { skipped: string }} ScaleRaw
 */

/**
 * The agent's command line as a shell would write it: npm start's environment, node and its flags, the entry.
 * @param {import('./scale/options.mjs').ScaleOptions} opts
 */
function agentCommand(opts) {
  const env = Object.entries(opts.agentEnv).map(([name, value]) => `${name}=${value}`);
  return [...env, 'node', ...opts.nodeArgs, opts.bin].join(' ');
}

/** @returns {Promise<BenchResult<ScaleRaw>>} */
export async function run() {
  const opts = scaleOptions();
  /** @param {string} reason @returns {BenchResult<ScaleRaw>} */
  const skipped = (reason) => ({ title: 'scale: skipped', notes: [reason], raw: { skipped: reason } });
  if (process.getuid?.() !== 0) return skipped('raw ICMP sockets need root');
  if (!existsSync(opts.bin)) return skipped(`${opts.bin} is missing: run npm run build`);
  const noOpenssl = await missingTool('openssl');
  if (noOpenssl) return skipped(noOpenssl);
  const durations = opts.points.map((_, i) => (i === opts.points.length - 1 ? opts.durationMs : opts.smallDurationMs));
  const boundMs = durations.reduce((a, d) => a + d + READY_TIMEOUT_MS + STOP_GRACE_MS + 30_000, 60_000);
  const dir = makeTempDir('vantage-bench-scale-');
  /** @type {Array<{ run: PointRun, figures: ReturnType<typeof pointFigures> }>} */
  const done = [];
  /** @type {Awaited<ReturnType<typeof perCheckMemory>> | undefined} */
  let perCheck;
  const progress = (/** @type {string} */ line) => process.stderr.write(`${line}\n`);
  /** @type {WireLag | undefined} */
  let wire;
  /** @type {Awaited<ReturnType<typeof startServers>> | undefined} */
  let servers;
  try {
    const pem = await writeCertificate(dir);
    servers = await startServers(pem, boundMs);
    wire = new WireLag(INTERVAL_MS);
    if (opts.perCheck) {
      progress(`scale: live memory per check (${FEW} and ${MANY} checks of each kind, in-process)`);
      perCheck = await perCheckMemory({ bin: opts.bin, dir, ...servers, caFile: pem.cert });
    }
    for (const [i, icmp] of opts.points.entries()) {
      const durationMs = durations[i] ?? opts.durationMs;
      progress(`scale: ${icmp} icmp targets for ${fmt(durationMs / 60_000, 1)} min`);
      const config = await writePointConfig(dir, {
        ...pointMix(icmp),
        httpsPort: servers.httpsPort,
        dnsPort: servers.dnsPort,
        caFile: pem.cert,
        maxConcurrent: opts.maxConcurrent,
      });
      const measured = await measurePoint(config, durationMs, opts, { wire, serversPid: servers.child.pid, progress });
      done.push({ run: measured, figures: pointFigures(measured) });
    }
  } finally {
    wire?.close();
    await stopChild(servers?.child, 2000);
    removeTempDir(dir);
  }
  /** @type {Section[]} */
  const sections = [];
  for (const { run: r, figures } of done) {
    sections.push(...minuteSections(r, figures));
    sections.push({
      heading:
        `${fmt(r.config.icmp, 0)} icmp targets: issue 13's aims ` +
        '(stated for 10,000 icmp + 1,000 https + 1,000 dns)',
      headers: ['aim', 'aim value', 'measured', 'met'],
      rows: aimRows(figures),
    });
  }
  if (perCheck) sections.push(perCheckSection(perCheck));
  sections.push({
    heading: 'trend over the points (end of run; KiB/check = RSS / all checks)',
    headers: TREND_HEADERS,
    rows: done.map(({ run: r, figures }) => trendRow(r, figures)),
  });
  const probeThreadNice = done.at(-1)?.run.scrapes.findLast((s) => s.exposition)?.exposition?.probeThreadNice;
  const notes = [
    "lag p50/p99: vantage_scheduler_lag_seconds (planned start -> run start, the agent's view), interpolated " +
      'in its buckets as histogram_quantile does; "> 5 ms %" is exact (a bucket bound)',
    'wire: planned slot -> the icmp probe on the wire (kernel stamp of its loopback reply, seen by a raw ' +
      'socket of ours), every icmp run; in-scrape: runs planned while a /metrics response was being served',
    `scrapes every ${fmt(opts.scrapeMs / 1000, 0)} s, one at a time, 10 s timeout; the scraper and the ` +
      'target servers run in other processes on the same 2 cores (their CPU is not counted)',
    'bench: cores of the scraper (this process) and the target servers; others: of every other process on the ' +
      'machine (/proc/stat minus the agent and bench); the 2 cores are ' +
      `shared; max_concurrent_runs ${opts.maxConcurrent ?? 'left at the default (64)'}`,
    `agent started as: ${agentCommand(opts)} run ` +
      `(${opts.bare ? 'plain node: --bare' : "npm start's environment and Node flags"}); its probe thread at nice ` +
      `${probeThreadNice ?? '?'} (vantage_probe_thread_nice)`,
    `realtime vs monotonic clock drift during the run: at most ${fmt(Number(wire?.maxDriftNs ?? 0n) / 1000, 0)} µs ` +
      '(corrected)',
  ];
  return {
    title:
      `scale: one agent, ${opts.points.map((p) => fmt(p, 0)).join(' / ')} icmp targets + a tenth as many https ` +
      `and dns checks (${opts.quick ? 'quick' : 'full'} mode)`,
    sections,
    notes,
    raw: {
      options: {
        points: opts.points,
        durationMs: opts.durationMs,
        smallDurationMs: opts.smallDurationMs,
        scrapeMs: opts.scrapeMs,
        quick: opts.quick,
      },
      points: done.map(({ run: r, figures }) => ({
        config: r.config,
        durationMs: r.durationMs,
        startupMs: r.startupMs,
        ...figures,
      })),
      maxClockDriftUs: Number(wire?.maxDriftNs ?? 0n) / 1000,
      perCheck,
    },
  };
}

/**
 * bench/scale.mjs's lines in the suite's summary: the largest point against issue 13's aims.
 * @param {ScaleRaw} raw
 * @returns {Cell[][]}
 */
export function headline(raw) {
  if ('skipped' in raw) return [];
  const p = raw.points.at(-1);
  if (!p) return [];
  const what = `scale (${fmt(p.config.icmp, 0)} icmp + ${fmt(p.config.https, 0)} https + ${fmt(p.config.dns, 0)} dns)`;
  return [
    [`${what}: RSS max MiB`, fmt(p.rssMaxMb, 0), `<= ${AIMS.rssMb}`, 'issue 13 aim'],
    [
      `${what}: start lag p99 ms (histogram / wire)`,
      `${fmt(p.whole.lagP99Ms, 2)} / ${fmt(p.whole.wire.p99, 2)}`,
      `<= ${AIMS.lagP99Ms}`,
      'issue 13 aim',
    ],
    [`${what}: runs skipped`, fmt(p.skippedTotal, 0), `${AIMS.skipped}`, 'issue 13 aim'],
    [`${what}: CPU cores`, fmt(p.whole.cores, 2), `<= ${AIMS.cores}`, 'issue 13 aim'],
  ];
}

await runStandalone(import.meta.url, run);
