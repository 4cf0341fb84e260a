// @ts-check
// Where an agent's memory goes per check (spawned by bench/scale/per-check.mjs): builds the
// real Agent in this process from dist/ on a config of N checks, lets every check run at least
// twice, then takes the pipeline apart piece by piece, reading the heap (after full GCs) between
// steps. Each step's drop is what that piece held: the recorder's series bookkeeping, prom-client's
// label sets and values, the child loggers, the ICMP engine's memory of finished probes, the
// scheduler's jobs and timers, the check instances, the config. Prints JSON as its last line.
// Usage: node bench/_scale-memory.mjs JSON
//   JSON: { dist, dir, icmp, https, dns, httpsPort, dnsPort, caFile, waitMs }
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { writePointConfig } from './scale/setup.mjs';

/**
 * @typedef {{
 *   dist: string, dir: string, icmp: number, https: number, dns: number, httpsPort: number, dnsPort: number,
 *   caFile: string, waitMs: number,
 * }} MemoryArgs
 * @typedef {{ step: string, heapUsed: number, external: number, arrayBuffers: number, rss: number }} Reading
 */

const args = /** @type {MemoryArgs} */ (JSON.parse(process.argv[2] ?? '{}'));
// gc() without --expose-gc on the command line (the helper runner passes no node flags).
setFlagsFromString('--expose-gc');
const gc = /** @type {() => void} */ (runInNewContext('gc'));

/**
 * A module of the build under test (untyped: dist/ has no declarations).
 * @param {string} rel
 * @returns {Promise<any>}
 */
const load = (rel) => import(pathToFileURL(join(args.dist, rel)).href);

const [{ Agent }, { builtinRegistry }, { systemClock }, { createLogger }, { systemNet }] = await Promise.all([
  load('agent/agent.js'),
  load('checks/registry.js'),
  load('clock.js'),
  load('log.js'),
  load('net/system-net.js'),
]);

/** @type {Reading[]} */
const readings = [];
/** @param {string} step */
function read(step) {
  for (let i = 0; i < 4; i++) gc();
  const m = process.memoryUsage();
  readings.push({ step, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers, rss: m.rss });
}

const config = await writePointConfig(args.dir, { ...args, maxConcurrent: undefined });
const net = systemNet(systemClock);
const agent = new Agent({
  configFile: config.file,
  listen: { host: '127.0.0.1', port: 0 },
  registry: builtinRegistry(),
  net,
  clock: systemClock,
  log: createLogger('warn', { write: () => undefined }),
  watch: false,
});
read('modules loaded');
await agent.start();
read('started (config, checks, jobs; no run yet)');
await new Promise((r) => setTimeout(r, args.waitMs));
const timers = process.getActiveResourcesInfo().filter((t) => t === 'Timeout').length;
const recorder = agent.checks.deps.recorder;
/** @type {Iterable<{ size: number, series?: Map<string, unknown> }>} */
const perCheckSeries = agent.registries.series?.owners?.values() ?? recorder.series?.values() ?? [];
const seriesKept = [...perCheckSeries].reduce((n, m) => n + (m.series?.size ?? m.size), 0);
const finishedProbes = net.icmp.keys?.finished?.size ?? 0;
read('running (every check ran at least twice)');

// Take it apart, newest layers first. Private fields are reached by name: this is a measurement,
// and it follows both shapes of the metrics (prom-client label sets, or the series store).
for (const state of agent.scheduler.jobs.values()) state.trigger?.stop();
await new Promise((r) => setTimeout(r, 1500));
read('triggers stopped: timers cancelled, no run in flight');
agent.history?.targets?.clear();
read('history: rings dropped');
agent.quality?.model?.targetStates?.clear();
read('quality: per-target windows dropped');
if (agent.registries.series?.owners) {
  agent.registries.series.owners = new Map();
  read("metrics: the series store's series and renderings dropped");
} else {
  recorder.series = new Map();
  read('metrics: the recorder series bookkeeping dropped');
  for (const registry of [agent.registries.text, agent.registries.openMetrics])
    for (const metric of registry.getMetricsAsArray()) metric.reset();
  read('metrics: prom-client label sets and values reset');
}
agent.checks.deps.executor.logs = new WeakMap();
read('executor: child loggers dropped');
const finished = net.icmp.keys?.finished;
if (finished instanceof Map) finished.clear();
else if (finished) net.icmp.keys.finished = new finished.constructor(30_000_000_000n);
net.addressBook?.entries?.clear();
read("net: ICMP engine's finished-probe memory, address book dropped");
agent.scheduler.jobs = new Map();
read('scheduler: jobs, triggers dropped');
agent.checks.scheduled = new Map();
read('check set: check instances dropped');
agent.config = undefined;
read('agent: config (specs) dropped');
await agent.stop(1000);
process.stdout.write(`${JSON.stringify({ readings, timers, seriesKept, finishedProbes })}\n`);
process.exit(0);
