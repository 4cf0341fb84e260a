// The network lab (test/lab) for benchmarks: compiled on demand, started and always removed (in
// finally, and on SIGINT/SIGTERM/SIGHUP through lib.mjs's signal clean-ups), plus running tools
// inside its namespaces. Used by lab.mjs, icmp.mjs and traceroute.mjs.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { fmt, installExitCleanup, onSignalCleanup, ROOT } from './lib.mjs';

export const execFileP = promisify(execFile);

const LAB_DIR = join(ROOT, 'test', 'lab');
const LAB_TSCONFIG = join(ROOT, 'tsconfig.lab.json');
/** The lab's compiled entry, in tsconfig.lab.json's outDir (it moved from build/lab to build-lab). */
const LAB_BUILD = join(ROOT, labOutDir(), 'lab.js');
/** Sources tsconfig.lab.json leaves out: editing them must not force a rebuild. */
const NOT_BUILT = (name) => name.endsWith('.test.ts') || name === 'global-setup.ts' || name === 'lab-context.ts';

// ---------------------------------------------------------------------------------------------
// Build

function labOutDir() {
  try {
    return JSON.parse(readFileSync(LAB_TSCONFIG, 'utf8')).compilerOptions?.outDir ?? 'build-lab';
  } catch {
    return 'build-lab';
  }
}

function newestLabSource(dir = LAB_DIR) {
  let max = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) max = Math.max(max, newestLabSource(p));
    else if (entry.name.endsWith('.ts') && !NOT_BUILT(entry.name)) max = Math.max(max, statSync(p).mtimeMs);
  }
  return max;
}

/**
 * `npm run bench` only builds dist/: compile the lab (tsconfig.lab.json) when its lab.js is missing
 * or older than its sources (or the tsconfig). Returns a note for the report, or undefined.
 */
async function ensureLabBuild() {
  const builtMs = existsSync(LAB_BUILD) ? statSync(LAB_BUILD).mtimeMs : 0;
  const sourceMs = Math.max(newestLabSource(), statSync(LAB_TSCONFIG).mtimeMs);
  if (builtMs >= sourceMs) return undefined;
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const why = builtMs === 0 ? 'missing' : 'older than test/lab';
  const out = relative(ROOT, dirname(LAB_BUILD));
  const t0 = performance.now();
  try {
    await execFileP(process.execPath, [tsc, '-p', LAB_TSCONFIG], { cwd: ROOT, timeout: 120_000, maxBuffer: 4 << 20 });
  } catch (err) {
    // tsc still emits on type errors: carry on with what it wrote when lab.js is there.
    const output = `${err.stdout ?? ''}${err.stderr ?? ''}`.trim() || err.message;
    if (!existsSync(LAB_BUILD) || statSync(LAB_BUILD).mtimeMs < sourceMs)
      throw new Error(`building the lab (tsc -p tsconfig.lab.json) failed:\n${output}`);
    return `${out}/ was ${why}: rebuilt with tsc -p tsconfig.lab.json, which reported errors (numbers are for what it emitted):\n    ${output.split('\n').slice(0, 5).join('\n    ')}`;
  }
  return `${out}/ was ${why}: rebuilt with tsc -p tsconfig.lab.json (${fmt((performance.now() - t0) / 1000, 1)} s)`;
}

/**
 * Builds the lab if needed and loads it: `{ Lab, buildNote }`, or `{ skipped: reason, buildNote }`
 * when this machine cannot run it (not root, a tool missing).
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

/** Every lab this process has started and not yet removed (as promises: up() may be in flight). */
const live = new Set();
let interrupted = false;

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

/** Runs `fn(lab)` on a fresh lab and always removes it. */
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

// ---------------------------------------------------------------------------------------------
// Tools

/** `'<tool> not installed'` when running `argv` fails with ENOENT, else undefined. */
export async function toolMissing(argv) {
  try {
    await execFileP(argv[0], argv.slice(1), { timeout: 5000 });
    return undefined;
  } catch (err) {
    return err.code === 'ENOENT' ? `${argv[0]} not installed` : undefined;
  }
}

/** Runs a command in a namespace; throws with its output when it exits non-zero (unless `okCodes`). */
export async function must(lab, ns, argv, { timeoutMs = 20_000, okCodes = [0] } = {}) {
  const r = await lab.exec(ns, argv, { timeoutMs });
  if (!okCodes.includes(r.code))
    throw new Error(`${argv.join(' ')} in ${ns} exited ${r.code}:\n${r.stdout}${r.stderr}`);
  return r.stdout;
}
