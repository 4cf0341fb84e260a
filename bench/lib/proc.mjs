// @ts-check
// Child processes and temporary directories that are always cleaned up: try/finally in each
// benchmark, plus a last-resort kill of anything still running when this process exits or is
// interrupted, and signal-time clean-ups (such as removing the network lab).
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { errorText } from './errors.mjs';

/** @import { ChildProcess, SpawnOptions } from 'node:child_process' */

/**
 * How a tracked child ended; `error` when it could not be spawned.
 * @typedef {{ code: number | null, signal: NodeJS.Signals | null, error?: Error }} Exit
 */

/**
 * A child started by spawnTracked: `output()` is the tail of its stdout + stderr, `exited` resolves
 * once it has exited (or failed to start).
 * @typedef {ChildProcess & { output: () => string, exited: Promise<Exit> }} TrackedChild
 */

export const execFileP = promisify(execFile);

/** @type {Set<TrackedChild>} */
const children = new Set();
/** @type {Set<string>} */
const tempDirs = new Set();

/**
 * A temporary directory removed by `removeTempDir`, or at exit if the benchmark is interrupted.
 * @param {string} prefix
 */
export function makeTempDir(prefix) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

/** @param {string} dir */
export function removeTempDir(dir) {
  tempDirs.delete(dir);
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Spawns a child whose stdout/stderr are drained into a bounded tail (shown when it fails) and
 * registers it so it is killed if this process exits or is interrupted.
 * @param {string} cmd
 * @param {readonly string[]} args
 * @param {SpawnOptions} [opts]
 * @returns {TrackedChild}
 */
export function spawnTracked(cmd, args, opts = {}) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  let tail = '';
  /** @param {Buffer} chunk */
  const keep = (chunk) => {
    tail = (tail + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  /** @type {Promise<Exit>} */
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      children.delete(tracked);
      resolve({ code, signal });
    });
    child.once('error', (err) => {
      children.delete(tracked);
      resolve({ code: null, signal: null, error: err });
    });
  });
  const tracked = Object.assign(child, { output: () => tail, exited });
  children.add(tracked);
  return tracked;
}

/**
 * Runs a command to completion under spawnTracked (killed with SIGKILL after `timeoutMs`, and at
 * exit if interrupted), keeping its whole output. wallMs is spawn -> exit.
 * @param {string} cmd
 * @param {readonly string[]} args
 * @param {SpawnOptions & { timeoutMs?: number }} [options]
 */
export async function execTracked(cmd, args, { timeoutMs = 30_000, ...opts } = {}) {
  const t0 = performance.now();
  const child = spawnTracked(cmd, args, opts);
  /** @type {{ stdout: Buffer[], stderr: Buffer[] }} */
  const out = { stdout: [], stderr: [] };
  child.stdout?.on('data', (c) => out.stdout.push(c));
  child.stderr?.on('data', (c) => out.stderr.push(c));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  try {
    const { code, signal, error } = await child.exited;
    if (error) throw error;
    const wallMs = performance.now() - t0;
    // 'exit' can come before the pipes are drained: wait for them to close.
    await Promise.all(
      [child.stdout, child.stderr].map((s) => (s && !s.closed ? new Promise((r) => s.once('close', r)) : undefined)),
    );
    return {
      code,
      signal,
      stdout: Buffer.concat(out.stdout).toString('utf8'),
      stderr: Buffer.concat(out.stderr).toString('utf8'),
      wallMs,
      timedOut,
    };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * SIGTERM, then SIGKILL after `graceMs`; resolves with how long the child took to exit (ms).
 * @param {TrackedChild | undefined} child
 */
export async function stopChild(child, graceMs = 3000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return 0;
  const t0 = performance.now();
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  try {
    await child.exited;
  } finally {
    clearTimeout(timer);
  }
  return performance.now() - t0;
}

export async function killAllChildren() {
  await Promise.all([...children].map((c) => stopChild(c, 1000)));
}

/** @type {Set<() => unknown>} */
const signalCleanups = new Set();
const SIGNAL_CLEANUP_MS = 15_000;

/**
 * Registers an async clean-up (e.g. tearing down the network lab) that a signal runs before this
 * process exits; bounded by SIGNAL_CLEANUP_MS. Returns a function that unregisters it. Normal
 * paths must still clean up in their own finally: this only covers Ctrl-C, SIGTERM and SIGHUP.
 * @param {() => unknown} fn
 */
export function onSignalCleanup(fn) {
  signalCleanups.add(fn);
  return () => signalCleanups.delete(fn);
}

/** @param {string} sig */
function onSignal(sig) {
  process.stderr.write(`\n${sig}: stopping benchmark children\n`);
  for (const c of children) c.kill('SIGKILL');
  const pending = [...signalCleanups].map((fn) => Promise.resolve().then(fn));
  if (pending.length === 0) process.exit(130);
  process.stderr.write(
    `${sig}: running ${pending.length} clean-up(s) (at most ${SIGNAL_CLEANUP_MS / 1000} s; signal again to skip)\n`,
  );
  const timer = setTimeout(() => process.exit(130), SIGNAL_CLEANUP_MS);
  void Promise.allSettled(pending).then((settled) => {
    for (const r of settled)
      if (r.status === 'rejected') process.stderr.write(`clean-up failed: ${errorText(r.reason)}\n`);
    clearTimeout(timer);
    process.exit(130);
  });
}

let cleanupInstalled = false;
/** Last-resort cleanup: kill our children on exit, Ctrl-C, SIGTERM or an uncaught error. */
export function installExitCleanup() {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  process.on('exit', () => {
    for (const c of children) {
      try {
        c.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
    for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.once(sig, () => onSignal(sig));
}

/**
 * Whether `cmd` (a name on the PATH or an absolute path) can be run.
 * @param {string} cmd
 */
export async function installed(cmd) {
  const r = await execTracked('sh', ['-c', `command -v ${cmd}`], { timeoutMs: 5_000 });
  return r.code === 0;
}

/**
 * `'<cmd> not installed'` when `cmd` cannot be run, else undefined: the reason a part is skipped.
 * @param {string} cmd
 */
export async function missingTool(cmd) {
  return (await installed(cmd)) ? undefined : `${cmd} not installed`;
}
