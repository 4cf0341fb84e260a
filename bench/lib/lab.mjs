// @ts-check
// The network lab (test/lab) for benchmarks: compiled on demand, started and always removed (in
// finally, and on SIGINT/SIGTERM/SIGHUP through proc.mjs's signal clean-ups), plus running tools
// inside its namespaces. Used by lab.mjs, icmp.mjs, traceroute.mjs, dns.mjs, https.mjs and diagnose.mjs.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { newestMtimeMs, ROOT } from './dist.mjs';
import { execFileP, installExitCleanup, missingTool, onSignalCleanup } from './proc.mjs';
import { fmt } from './table.mjs';

/**
 * A running lab (test/lab/lab.ts's Lab: `truth`, `exec(ns, argv, { timeoutMs })`, `down()`) and its
 * class. Untyped on purpose (any): it is loaded from the lab's compiled output, which has no
 * declarations, and type-checking bench/ against test/lab's sources would tie the two builds.
 * @typedef {any} Lab
 * @typedef {any} LabClass
 */

const LAB_DIR = join(ROOT, 'test', 'lab');
const LAB_TSCONFIG = join(ROOT, 'tsconfig.lab.json');
/** The lab's compiled entry, in tsconfig.lab.json's outDir (it moved from build/lab to build-lab). */
const LAB_BUILD = join(ROOT, labOutDir(), 'lab.js');
/**
 * Sources tsconfig.lab.json compiles (tests and vitest set-up are left out: editing them must not
 * force a rebuild).
 * @param {string} name
 */
const BUILT = (name) =>
  name.endsWith('.ts') && !name.endsWith('.test.ts') && name !== 'global-setup.ts' && name !== 'lab-context.ts';

// ---------------------------------------------------------------------------------------------
// Build

/** @returns {string} */
function labOutDir() {
  try {
    /** @type {{ compilerOptions?: { outDir?: string } }} */
    const tsconfig = JSON.parse(readFileSync(LAB_TSCONFIG, 'utf8'));
    return tsconfig.compilerOptions?.outDir ?? 'build-lab';
  } catch {
    return 'build-lab';
  }
}

/**
 * `npm run bench` only builds dist/: compile the lab (tsconfig.lab.json) when its lab.js is missing
 * or older than its sources (or the tsconfig). Returns a note for the report, or undefined.
 */
async function ensureLabBuild() {
  const builtMs = existsSync(LAB_BUILD) ? statSync(LAB_BUILD).mtimeMs : 0;
  const sourceMs = Math.max(newestMtimeMs(LAB_DIR, BUILT), statSync(LAB_TSCONFIG).mtimeMs);
  if (builtMs >= sourceMs) return undefined;
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const why = builtMs === 0 ? 'missing' : 'older than test/lab';
  const out = relative(ROOT, dirname(LAB_BUILD));
  const t0 = performance.now();
  try {
    await execFileP(process.execPath, [tsc, '-p', LAB_TSCONFIG], { cwd: ROOT, timeout: 120_000, maxBuffer: 4 << 20 });
  } catch (err) {
    // tsc still emits on type errors: carry on with what it wrote when lab.js is there.
    const failed = /** @type {{ stdout?: string, stderr?: string, message: string }} */ (err);
    const output = `${failed.stdout ?? ''}${failed.stderr ?? ''}`.trim() || failed.message;
    if (!existsSync(LAB_BUILD) || statSync(LAB_BUILD).mtimeMs < sourceMs)
      throw new Error(`building the lab (tsc -p tsconfig.lab.json) failed:\n${output}`);
    return (
      `${out}/ was ${why}: rebuilt with tsc -p tsconfig.lab.json, which reported errors ` +
      `(numbers are for what it emitted):\n    ${output.split('\n').slice(0, 5).join('\n    ')}`
    );
  }
  return `${out}/ was ${why}: rebuilt with tsc -p tsconfig.lab.json (${fmt((performance.now() - t0) / 1000, 1)} s)`;
}

/**
 * Builds the lab if needed and loads it: `{ Lab, buildNote }`, or `{ skipped: reason, buildNote }`
 * when this machine cannot run it (not root, a tool missing).
 * @returns {Promise<{ Lab: LabClass, skipped?: undefined, buildNote?: string }
 *   | { Lab?: undefined, skipped: string, buildNote?: string }>}
 */
export async function loadLab() {
  if (process.getuid?.() !== 0) return { skipped: 'the network lab needs root (network namespaces, nftables)' };
  const buildNote = await ensureLabBuild();
  const { Lab, labSupport } = await import(pathToFileURL(LAB_BUILD).href);
  const support = await labSupport();
  if (!support.ok) return { skipped: support.reason, buildNote };
  return { Lab, buildNote };
}

// ---------------------------------------------------------------------------------------------
// Labs that are always removed

/**
 * Every lab this process has started and not yet removed (as promises: up() may be in flight).
 * @type {Set<Promise<Lab>>}
 */
const live = new Set();
let interrupted = false;

/**
 * Lab.up(spec), remembered until labDown (or a signal) removes it.
 * @param {LabClass} Lab
 * @param {object} spec
 * @returns {Promise<Lab>}
 */
export async function labUp(Lab, spec) {
  if (interrupted) throw new Error('interrupted: not starting another lab');
  const pending = Lab.up(spec);
  live.add(pending);
  try {
    return await pending;
  } catch (err) {
    live.delete(pending); // up() removes what it built before it throws
    throw err;
  }
}

/** @param {Lab} lab */
export async function labDown(lab) {
  try {
    await lab.down();
  } finally {
    for (const p of live) if ((await p.catch(() => undefined)) === lab) live.delete(p);
  }
}

/** Waits for any up() in flight and removes every lab this process started. */
async function removeLiveLabs() {
  await Promise.allSettled([...live].map(async (p) => (await p).down()));
  live.clear();
}

/** On a signal: start no new lab, remove everything. */
async function onSignal() {
  interrupted = true;
  await removeLiveLabs();
}

/**
 * Runs `fn(lab)` on a fresh lab and always removes it.
 * @template T
 * @param {LabClass} Lab
 * @param {object} spec
 * @param {(lab: Lab) => Promise<T>} fn
 */
export async function withLab(Lab, spec, fn) {
  const lab = await labUp(Lab, spec);
  try {
    return await fn(lab);
  } finally {
    await labDown(lab);
  }
}

/**
 * Runs `fn()` (which starts labs with labUp/withLab) so that every lab it started is removed when
 * it ends, throws, or the process gets SIGINT/SIGTERM/SIGHUP.
 * @template T
 * @param {() => Promise<T>} fn
 */
export async function withLabCleanup(fn) {
  installExitCleanup();
  const unregister = onSignalCleanup(onSignal);
  try {
    return await fn();
  } finally {
    await removeLiveLabs();
    unregister();
  }
}

/**
 * Runs `fn(lab)` on a fresh lab with the default spec, removed at the end and on signals: the whole
 * body of a benchmark that needs one lab. Returns a skipped result instead when the lab cannot run
 * here or one of the tools it `needs` is missing.
 * @template T
 * @param {string} name the benchmark's name, for the skipped result's title
 * @param {readonly string[]} needs commands that must be installed
 * @param {(lab: Lab) => Promise<T>} fn
 * @returns {Promise<T | { title: string, notes: string[] }>}
 */
export async function inDefaultLab(name, needs, fn) {
  const loaded = await loadLab();
  if (loaded.skipped !== undefined) return { title: `${name}: skipped`, notes: [loaded.skipped] };
  for (const tool of needs) {
    const missing = await missingTool(tool);
    if (missing) return { title: `${name}: skipped`, notes: [missing] };
  }
  return withLabCleanup(() => withLab(loaded.Lab, {}, fn));
}

// ---------------------------------------------------------------------------------------------
// Tools

/**
 * Runs a command in a namespace; throws with its output when it exits non-zero (unless `okCodes`).
 * @param {Lab} lab
 * @param {string} ns
 * @param {readonly string[]} argv
 * @param {{ timeoutMs?: number, okCodes?: number[] }} [options]
 * @returns {Promise<string>} its stdout
 */
export async function must(lab, ns, argv, { timeoutMs = 20_000, okCodes = [0] } = {}) {
  const r = await lab.exec(ns, argv, { timeoutMs });
  if (!okCodes.includes(r.code))
    throw new Error(`${argv.join(' ')} in ${ns} exited ${r.code}:\n${r.stdout}${r.stderr}`);
  return r.stdout;
}
