// @ts-check
// Start-up, module by module (issue 20): where `vantage run` (until /metrics answers) and `vantage
// probe tcp` spend their module evaluation. A copy of the bundle (dist/cli.cjs, from scripts/bundle.mjs)
// is written beside it with esbuild's module wrappers (__esm for our ES modules, __commonJS for
// packages) and `require` timed: each module's own evaluation (its imports' excluded) and each
// built-in's first load. A CPU profile samples too coarsely for 1-5 ms modules and its sampling
// slows start-up itself; this costs two clock reads per module.
// --bin=PATH: a build's dist/bin/vantage.cjs; --runs=N (default 5); --top=N rows (default 25).
// Run with the Node to measure: `path/to/node22 bench/startup-modules.mjs --bin=...`.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { VANTAGE_BIN } from './lib/dist.mjs';
import { freePort, LOOPBACK, pollHttp } from './lib/http.mjs';
import { execTracked, makeTempDir, removeTempDir, spawnTracked, stopChild } from './lib/proc.mjs';
import { runStandalone } from './lib/standalone.mjs';
import { median } from './lib/stats.mjs';
import { fmt } from './lib/table.mjs';

/** @import { AddressInfo } from 'node:net' */

const arg = (/** @type {string} */ name) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const BIN = arg('bin') ?? VANTAGE_BIN;
const RUNS = Number(arg('runs') ?? 5);
const TOP = Number(arg('top') ?? 25);
const TIMES_ENV = 'VANTAGE_MODULE_TIMES';

// esbuild's helpers as it emits them (format cjs): replaced by timed ones. A newer esbuild that
// words them differently makes this bench fail with that said, not measure nothing.
const ESM_HELPER = `var __esm = (fn, res, err) => function __init() {
  if (err) throw err[0];
  try {
    return fn && (res = (0, fn[__getOwnPropNames(fn)[0]])(fn = 0)), res;
  } catch (e) {
    throw err = [e], e;
  }
};`;
const CJS_HELPER = `var __commonJS = (cb, mod) => function __require() {
  try {
    return mod || (0, cb[__getOwnPropNames(cb)[0]])((mod = { exports: {} }).exports, mod), mod.exports;
  } catch (e) {
    throw mod = 0, e;
  }
};`;

const PRELUDE = `const __vtRows = new Map();
const __vtOpen = [];
const __vtNames = [];
function __vtTime(name, f) {
  const t0 = performance.now();
  __vtOpen.push(0);
  __vtNames.push(name);
  try {
    return f();
  } finally {
    const total = performance.now() - t0;
    const inner = __vtOpen.pop();
    __vtNames.pop();
    if (__vtOpen.length > 0) __vtOpen[__vtOpen.length - 1] += total;
    const row = __vtRows.get(name) ?? { self: 0, total: 0 };
    row.self += total - inner;
    row.total += total;
    __vtRows.set(name, row);
  }
}
const __vtBy = () => (__vtNames.at(-1) ?? 'top level').split('node_modules/').at(-1);
require = ((load) => Object.assign((id) => __vtTime('require ' + id + ' (by ' + __vtBy() + ')', () => load(id)), load))(
  require,
);
process.on('exit', () => require('node:fs').writeFileSync(process.env.${TIMES_ENV}, JSON.stringify([...__vtRows])));
`;
const TIMED_ESM = `var __esm = (fn, res, err) => function __init() {
  if (err) throw err[0];
  try {
    if (fn) {
      const name = __getOwnPropNames(fn)[0], init = fn[name];
      fn = 0;
      res = __vtTime(name, init);
    }
    return res;
  } catch (e) {
    throw err = [e], e;
  }
};`;
const TIMED_CJS = `var __commonJS = (cb, mod) => function __require() {
  try {
    if (!mod) {
      const name = __getOwnPropNames(cb)[0];
      mod = { exports: {} };
      __vtTime(name, () => cb[name](mod.exports, mod));
    }
    return mod.exports;
  } catch (e) {
    throw mod = 0, e;
  }
};`;

/**
 * Writes the timed copies of the bundle and its entry beside the originals (the bundle finds
 * package.json and the ICMP addon relative to its own directory); returns the timed entry and a
 * function that removes both.
 * @param {string} bin
 */
function instrument(bin) {
  const bundle = join(dirname(bin), '..', 'cli.cjs');
  const text = readFileSync(bundle, 'utf8');
  if (!text.includes(ESM_HELPER) || !text.includes(CJS_HELPER))
    throw new Error(`${bundle}: esbuild's __esm/__commonJS helpers are not the ones this bench replaces`);
  const timedBundle = join(dirname(bundle), 'cli.timed.cjs');
  const timedBin = join(dirname(bin), 'vantage.timed.cjs');
  writeFileSync(timedBundle, PRELUDE + text.replace(ESM_HELPER, TIMED_ESM).replace(CJS_HELPER, TIMED_CJS));
  const entry = readFileSync(bin, 'utf8');
  if (!entry.includes('"../cli.cjs"')) throw new Error(`${bin}: does not load ../cli.cjs (not a bundled build?)`);
  writeFileSync(timedBin, entry.replace('"../cli.cjs"', '"../cli.timed.cjs"'));
  return { timedBin, remove: () => [timedBundle, timedBin].forEach((f) => rmSync(f, { force: true })) };
}

/** @param {string} file @returns {Map<string, { self: number, total: number }>} */
function readTimes(file) {
  return new Map(JSON.parse(readFileSync(file, 'utf8')));
}

/**
 * Median self and total time per module over the runs, and the median sum of self times.
 * @param {Map<string, { self: number, total: number }>[]} runs
 */
function summarizeRuns(runs) {
  const names = new Set(runs.flatMap((r) => [...r.keys()]));
  const rows = [...names].map((name) => ({
    name,
    self: median(runs.map((r) => r.get(name)?.self ?? 0)),
    total: median(runs.map((r) => r.get(name)?.total ?? 0)),
  }));
  const sum = median(runs.map((r) => [...r.values()].reduce((s, v) => s + v.self, 0)));
  return { sum, rows: rows.sort((a, b) => b.self - a.self) };
}

export async function run() {
  const dir = makeTempDir('vantage-bench-startup-modules-');
  const { timedBin, remove } = instrument(BIN);
  const target = createServer((s) => s.destroy());
  await new Promise((r) => target.listen(0, LOOPBACK, () => r(undefined)));
  try {
    const targetPort = /** @type {AddressInfo} */ (target.address()).port;
    const cfg = join(dir, 'vantage.yaml');
    await writeFile(
      cfg,
      `agent: {id: bench, region: bench}\nlisten: ${LOOPBACK}:9477\n` +
        `targets:\n  - name: local\n    host: ${LOOPBACK}\n    checks:\n      - {kind: tcp, port: ${targetPort}}\n`,
    );
    /** @type {Map<string, { self: number, total: number }>[]} */
    const runRuns = [];
    /** @type {Map<string, { self: number, total: number }>[]} */
    const probeRuns = [];
    for (let i = 0; i < RUNS; i++) {
      const times = join(dir, `run-${i}.json`);
      const port = await freePort();
      const args = [timedBin, 'run', '-c', cfg, '--listen', `${LOOPBACK}:${port}`, '--log-level', 'warn'];
      const child = spawnTracked(process.execPath, args, { env: { ...process.env, [TIMES_ENV]: times } });
      try {
        await pollHttp({ port, path: '/metrics', ready: (res) => res.status === 200, timeoutMs: 15_000, child });
      } finally {
        await stopChild(child);
      }
      runRuns.push(readTimes(times));

      const probeTimes = join(dir, `probe-${i}.json`);
      const r = await execTracked(process.execPath, [timedBin, 'probe', 'tcp', `${LOOPBACK}:${targetPort}`], {
        env: { ...process.env, [TIMES_ENV]: probeTimes },
      });
      if (r.code !== 0) throw new Error(`probe tcp: exit ${r.signal ?? r.code}: ${r.stderr}${r.stdout}`);
      probeRuns.push(readTimes(probeTimes));
    }
    const sections = [
      ['vantage run (spawn -> /metrics, then SIGTERM)', summarizeRuns(runRuns)],
      ['vantage probe tcp', summarizeRuns(probeRuns)],
    ].map(([label, s]) => {
      const summary = /** @type {ReturnType<typeof summarizeRuns>} */ (s);
      return {
        headers: [`${label}: module`, 'self ms', 'with imports ms'],
        rows: [
          ['(all modules, sum of self)', fmt(summary.sum, 1), '-'],
          ...summary.rows.slice(0, TOP).map((r) => [r.name, fmt(r.self, 1), fmt(r.total, 1)]),
        ],
      };
    });
    const notes = [
      `medians over ${RUNS} runs, Node ${process.version}, ${BIN}`,
      "self: the module's own top-level code; with imports: the modules and built-ins it loaded first",
      '"require X (by M)": the first load of a built-in (or an external package) and the module that asked; later ' +
        'requires are free',
      'run: everything evaluated until the process exited (it is stopped right after /metrics answered)',
    ];
    return { title: `startup modules (${RUNS} runs)`, sections, notes, raw: { runs: RUNS } };
  } finally {
    remove();
    await new Promise((r) => target.close(() => r(undefined)));
    removeTempDir(dir);
  }
}

await runStandalone(import.meta.url, run);
