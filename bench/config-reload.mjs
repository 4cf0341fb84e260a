// @ts-check
// Config reload cost (issue 12 #9): a running agent (dist/) with 1,000 and 5,000 checks reloads
// its config in three ways: the same text again (a SIGHUP with nothing changed), every target's
// labels changed (every check rebuilt, jobs kept) and every interval changed (every job replaced).
// For each: the reload's wall time, the apply's share, and the longest stretch the event loop was
// held (the largest gap between ticks of a 1 ms interval timer), which is how late a probe's timer
// or a liveness probe's answer can be. Parse+validate is also timed on its own, in one go.
// `node bench/config-reload.mjs --baseline DIR` runs the same against another build's dist/ (e.g.
// a worktree of an older commit, built) and prints both, for before/after numbers.
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadDist } from './lib/dist.mjs';
import { makeTempDir, removeTempDir } from './lib/proc.mjs';
import { runStandalone } from './lib/standalone.mjs';
import { rounded, summarize } from './lib/stats.mjs';
import { fmt } from './lib/table.mjs';

/** @import { Cell } from './lib/table.mjs' */

const SCALES = [1_000, 5_000];
const REPEATS = 4;
const CHECKS_PER_TARGET = 4;
const SCENARIOS = /** @type {const} */ (['unchanged', 'labels changed', 'intervals changed']);

/**
 * A config of `checks` checks on loopback targets: per target tcp, https (with a status range and
 * a body regex), icmp and dns, like a real fleet's mix. Intervals are long (1h or 2h), so the
 * checks the agent schedules barely run while it is measured. `variant` changes every target's
 * labels; `slow` every interval.
 * @param {number} checks
 * @param {{ variant?: number, slow?: boolean }} [change]
 */
export function generateConfig(checks, change = {}) {
  const lines = ['agent:', '  id: bench', '  region: bench-1', 'defaults:', `  interval: ${change.slow ? '2h' : '1h'}`];
  lines.push('  timeout: 5s', 'targets:');
  const kinds = [
    '      - {kind: tcp}',
    '      - {kind: https, accept_status: [200-399], body_regex: "ok", max_body_bytes: 65536}',
    '      - {kind: icmp, count: 3}',
    '      - {kind: dns, resolver: [127.0.0.53]}',
  ];
  for (let t = 0; t * CHECKS_PER_TARGET < checks; t++) {
    lines.push(`  - name: target-${t}`, `    url: https://127.${(t >> 8) & 255}.${t & 255}.1:8443/health`);
    lines.push(`    group: g${t % 10}`, `    labels: {team: t${t % 7}, tier: "${change.variant ?? 0}"}`, '    checks:');
    for (let k = 0; k < CHECKS_PER_TARGET && t * CHECKS_PER_TARGET + k < checks; k++) lines.push(kinds[k] ?? '');
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The modules used, from dist/ or from another build's dist directory (untyped: see loadDist).
 * @param {string | undefined} dir
 */
async function loadBuild(dir) {
  /** @param {string} rel @returns {Promise<any>} */
  const from = (rel) => (dir === undefined ? loadDist(rel) : import(pathToFileURL(join(resolve(dir), rel)).href));
  return {
    ...(await from('agent/agent.js')),
    ...(await from('config/load.js')),
    ...(await from('checks/registry.js')),
    ...(await from('clock.js')),
    ...(await from('net/system-net.js')),
    ...(await from('log.js')),
  };
}

/**
 * Runs `work` while a 1 ms interval timer ticks: its wall time, the longest gap between ticks (the
 * gap still open when it ends included), and the CPU time the process used in that gap (less than
 * the gap: the process was waiting for a core; more: GC threads worked beside the loop).
 * @template T
 * @param {() => Promise<T>} work
 */
async function withLoopProbe(work) {
  let last = performance.now();
  let lastCpu = process.cpuUsage();
  let longest = 0;
  let longestCpu = 0;
  const tick = () => {
    const now = performance.now();
    const cpu = process.cpuUsage(lastCpu);
    if (now - last > longest) {
      longest = now - last;
      longestCpu = (cpu.user + cpu.system) / 1000;
    }
    last = now;
    lastCpu = process.cpuUsage();
  };
  const timer = setInterval(tick, 1);
  await new Promise((r) => setTimeout(r, 20));
  last = performance.now();
  lastCpu = process.cpuUsage();
  longest = 0;
  const t0 = performance.now();
  const value = await work();
  const ms = performance.now() - t0;
  tick();
  clearInterval(timer);
  return { value, ms, longestMs: longest, longestCpuMs: longestCpu };
}

/**
 * One build at one scale: parse+validate in one go, then each reload scenario REPEATS times in a
 * running agent.
 * @param {any} build modules from loadBuild
 * @param {number} checks
 */
async function oneScale(build, checks) {
  const dir = makeTempDir('vantage-bench-reload-');
  const file = join(dir, 'vantage.yaml');
  const text = generateConfig(checks);
  writeFileSync(file, text);
  const registry = build.builtinRegistry();
  /** @type {number[]} */
  const parseMs = [];
  for (let i = 0; i < REPEATS; i++) {
    const t0 = performance.now();
    build.parseConfig(file, text, { registry, env: {} });
    parseMs.push(performance.now() - t0);
  }
  const agent = new build.Agent({
    configFile: file,
    listen: { host: '127.0.0.1', port: 0 },
    registry,
    net: build.systemNet(build.systemClock),
    clock: build.systemClock,
    log: build.createLogger('silent'),
    watch: false,
  });
  // The apply's share: the agent's apply (sync in older builds, paced in newer ones), timed.
  let applyMs = NaN;
  const apply = agent.apply;
  /** @param {unknown[]} args */
  agent.apply = function (...args) {
    const t0 = performance.now();
    const done = () => void (applyMs = performance.now() - t0);
    const result = apply.apply(this, args);
    if (result && typeof result.then === 'function') return result.then(done);
    done();
    return result;
  };
  /** @typedef {{ reloadMs: number[], applyMs: number[], longestMs: number[], longestCpuMs: number[] }} Runs */
  /** @type {Record<string, Runs>} */
  const scenarios = {};
  try {
    await agent.start();
    let variant = 0;
    for (const scenario of SCENARIOS) {
      /** @type {Runs} */
      const runs = { reloadMs: [], applyMs: [], longestMs: [], longestCpuMs: [] };
      for (let i = 0; i < REPEATS; i++) {
        variant++;
        if (scenario === 'labels changed') writeFileSync(file, generateConfig(checks, { variant }));
        if (scenario === 'intervals changed')
          writeFileSync(file, generateConfig(checks, { variant, slow: i % 2 === 0 }));
        applyMs = NaN;
        const { value, ms, longestMs, longestCpuMs } = await withLoopProbe(() => agent.reload());
        if (value !== true) throw new Error(`reload (${scenario}, ${checks} checks) failed`);
        runs.reloadMs.push(ms);
        runs.applyMs.push(applyMs);
        runs.longestMs.push(longestMs);
        runs.longestCpuMs.push(longestCpuMs);
        globalThis.gc?.();
      }
      scenarios[scenario] = runs;
    }
  } finally {
    await agent.stop(1_000);
    removeTempDir(dir);
  }
  return { checks, bytes: Buffer.byteLength(text), parseMs, scenarios };
}

/** @param {string | undefined} dir */
async function runBuild(dir) {
  const build = await loadBuild(dir);
  // Warm-up (JIT, zod's schema compilation), not reported.
  await oneScale(build, 200);
  /** @type {Awaited<ReturnType<typeof oneScale>>[]} */
  const scales = [];
  for (const checks of SCALES) scales.push(await oneScale(build, checks));
  return scales;
}

export async function run() {
  const at = process.argv.indexOf('--baseline');
  const baselineDir = at === -1 ? undefined : process.argv[at + 1];
  const builds = [
    ...(baselineDir ? [{ name: 'baseline', scales: await runBuild(baselineDir) }] : []),
    { name: baselineDir ? 'this build' : 'dist/', scales: await runBuild(undefined) },
  ];
  /** @param {number} v */
  const ms = (v) => fmt(v, 1);
  const parseRows = builds.flatMap((b) =>
    b.scales.map((s) => {
      const st = summarize(s.parseMs);
      return [b.name, fmt(s.checks, 0), fmt(s.bytes / 1024, 0), ms(st.p50), ms(st.min)];
    }),
  );
  const reloadRows = builds.flatMap((b) =>
    b.scales.flatMap((s) =>
      SCENARIOS.map((name) => {
        const r = s.scenarios[name];
        const apply = r ? summarize(r.applyMs.filter((v) => Number.isFinite(v))) : undefined;
        return [
          b.name,
          fmt(s.checks, 0),
          name,
          ms(r ? summarize(r.reloadMs).p50 : NaN),
          apply && apply.count > 0 ? ms(apply.p50) : 'not applied',
          ms(r ? summarize(r.longestMs).p50 : NaN),
          ms(r ? summarize(r.longestMs).max : NaN),
          ms(r ? summarize(r.longestCpuMs).p50 : NaN),
        ];
      }),
    ),
  );
  return {
    title: `config-reload: a running agent reloads 1,000 and 5,000 checks (${REPEATS} reloads each)`,
    sections: [
      {
        heading: 'parse + validate in one go (parseConfig: YAML with positions, schema, cross-field rules):',
        headers: ['build', 'checks', 'KiB', 'p50 ms', 'min ms'],
        rows: parseRows,
      },
      {
        heading: 'reload in the agent (SIGHUP path: read, validate, apply):',
        headers: [
          'build',
          'checks',
          'reload',
          'reload p50 ms',
          'apply p50 ms',
          'longest block p50 ms',
          'max ms',
          'its CPU p50 ms',
        ],
        rows: reloadRows,
        notes: [
          'longest block = the largest gap between ticks of a 1 ms interval timer during the reload (what a probe ' +
            "timer or a liveness probe's answer waits); its CPU = what the process used in that gap: below the gap " +
            'the process waited for a core (a busy machine), above it GC threads worked beside the loop',
          'labels changed: every check rebuilt, jobs and series kept; intervals changed: every job replaced',
        ],
      },
    ],
    raw: {
      repeats: REPEATS,
      builds: builds.map((b) => ({
        name: b.name,
        scales: b.scales.map((s) => ({
          checks: s.checks,
          bytes: s.bytes,
          parseMs: rounded(summarize(s.parseMs)),
          reloads: Object.fromEntries(
            Object.entries(s.scenarios).map(([name, r]) => [
              name,
              {
                reloadMs: rounded(summarize(r.reloadMs)),
                applyMs: rounded(summarize(r.applyMs.filter((v) => Number.isFinite(v)))),
                longestBlockMs: rounded(summarize(r.longestMs)),
                longestBlockCpuMs: rounded(summarize(r.longestCpuMs)),
              },
            ]),
          ),
        })),
      })),
    },
  };
}

/**
 * bench/config-reload.mjs's lines in the suite's summary (bench/run.mjs): at 5,000 checks, the
 * unchanged reload's time and a changed reload's longest loop block, against the ~50 ms aim.
 * @param {Awaited<ReturnType<typeof run>>['raw']} m
 * @returns {Cell[][]}
 */
export function headline(m) {
  const last = m.builds.at(-1)?.scales.find((s) => s.checks === 5_000);
  if (!last) return [];
  const block = Math.max(...Object.values(last.reloads).map((r) => r.longestBlockMs.p50));
  return [
    ['config reload ms, 5,000 checks, file unchanged', fmt(last.reloads.unchanged?.reloadMs.p50, 1), '-', '-'],
    ['config reload longest loop block ms, 5,000 checks', fmt(block, 1), '50', 'aim (issue 12 #9)'],
  ];
}

await runStandalone(import.meta.url, run);
