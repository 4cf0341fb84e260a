// Shared helpers for the Vantage benchmarks: statistics, aligned tables, ports, HTTP polling and
// child processes that are always cleaned up (try/finally in each benchmark, plus a last-resort
// kill of anything still running when this process exits or is interrupted).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const DIST = join(ROOT, 'dist');
export const VANTAGE_BIN = join(DIST, 'bin', 'vantage.cjs');
export const LOOPBACK = '127.0.0.1';

/** The i-th distinct loopback address: 127.1.0.1, 127.1.0.2, ... (host parts 0 and 255 skipped). */
export function loopbackTarget(i) {
  const block = Math.floor(i / 254);
  return `127.${1 + (block >> 8)}.${block & 255}.${1 + (i % 254)}`;
}

// ---------------------------------------------------------------------------------------------
// Compiled code

/** Imports a module of the compiled agent (`dist/<rel>`), with a hint when the build is missing. */
export async function loadDist(rel) {
  const file = join(DIST, rel);
  if (!existsSync(file))
    throw new Error(`${file} is missing: run \`npm run build\` first (or \`npm run bench\`, which builds)`);
  return import(pathToFileURL(file).href);
}

/** Warns (once) when a file in src/ is newer than dist/: numbers would be for old code. */
let staleChecked = false;
export function warnIfStale() {
  if (staleChecked) return;
  staleChecked = true;
  try {
    const newest = (dir) => {
      let max = 0;
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, entry.name);
        max = Math.max(max, entry.isDirectory() ? newest(p) : statSync(p).mtimeMs);
      }
      return max;
    };
    if (!existsSync(VANTAGE_BIN)) return;
    const srcNewest = newest(join(ROOT, 'src'));
    const distNewest = newest(DIST);
    if (srcNewest > distNewest)
      process.stderr.write(
        'warning: src/ is newer than dist/; run `npm run build` (npm run bench does) for current numbers\n',
      );
  } catch {
    // Only a hint.
  }
}

// ---------------------------------------------------------------------------------------------
// Statistics

/** Percentile with linear interpolation between closest ranks (numpy's default); NaN when empty. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const idx = (sorted.length - 1) * (p / 100);
  const lo = Math.floor(idx);
  const hi = Math.ceil(idx);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (idx - lo);
}

/** count, min, mean, p50, p90, p99, max of a list of numbers. */
export function summarize(values) {
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    count: n,
    min: n ? sorted[0] : NaN,
    mean: n ? sum / n : NaN,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: n ? sorted[n - 1] : NaN,
  };
}

/** The interpolated median (the p50 of summarize) of the finite values. */
export function median(values) {
  return summarize(values.filter((v) => Number.isFinite(v))).p50;
}

/** Rounds every number of a summary for the JSON file (keeps it readable). */
export function rounded(obj, digits = 4) {
  const f = 10 ** digits;
  return Object.fromEntries(
    Object.entries(obj).map(([k, v]) => [
      k,
      typeof v === 'number' && Number.isFinite(v) && !Number.isInteger(v) ? Math.round(v * f) / f : v,
    ]),
  );
}

// ---------------------------------------------------------------------------------------------
// Output

/** Formats a number with fixed decimals; '-' for missing values. */
export function fmt(v, digits = 2) {
  if (v === undefined || v === null || (typeof v === 'number' && Number.isNaN(v))) return '-';
  if (typeof v !== 'number') return String(v);
  return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** An aligned table: text columns left, numbers right. `rows` are arrays of already formatted cells. */
export function table(headers, rows) {
  const cells = [headers, ...rows].map((r) => r.map((c) => (c === undefined || c === null ? '-' : String(c))));
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const numeric = headers.map(
    (_, i) => rows.length > 0 && rows.every((r) => /^-?[\d,.]+$|^-$/.test(String(r[i] ?? '-'))),
  );
  const line = (r) =>
    r
      .map((c, i) => (numeric[i] ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

/**
 * Prints a benchmark result: `{ title, sections: [{ heading?, headers, rows, notes? }], notes? }`.
 */
export function printResult(result, out = process.stdout) {
  const lines = [`== ${result.title} ==`];
  for (const s of result.sections ?? []) {
    if (s.heading) lines.push(s.heading);
    if (s.headers) lines.push(table(s.headers, s.rows));
    for (const n of s.notes ?? []) lines.push(`  ${n}`);
    lines.push('');
  }
  for (const n of result.notes ?? []) lines.push(`note: ${n}`);
  if ((result.notes ?? []).length === 0 && lines[lines.length - 1] === '') lines.pop();
  out.write(`${lines.join('\n')}\n\n`);
}

/** Runs a benchmark module's `run()` when the file is executed directly (`node bench/X.mjs`). */
export async function runStandalone(metaUrl, run) {
  if (!process.argv[1] || pathToFileURL(process.argv[1]).href !== metaUrl) return;
  warnIfStale();
  installExitCleanup();
  try {
    const result = await run();
    printResult(result);
  } catch (err) {
    process.stderr.write(`benchmark failed: ${err?.stack ?? err}\n`);
    process.exitCode = 1;
  } finally {
    await killAllChildren();
  }
}

// ---------------------------------------------------------------------------------------------
// Network helpers (127.0.0.1 only)

/** A port that was free a moment ago on 127.0.0.1 (bind to 0, read it, close). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, LOOPBACK, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** One GET on 127.0.0.1 without keep-alive; resolves { status, body } or rejects on a socket error. */
export function httpGet(port, path, timeoutMs = 2000, agent = false) {
  return new Promise((resolve, reject) => {
    const req = request({ host: LOOPBACK, port, path, method: 'GET', agent, timeout: timeoutMs }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

export const delay = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls GET `path` every `intervalMs` until `ready(res)` or `timeoutMs`; throws on timeout or
 * when `child` exits first. Returns the response that satisfied `ready`.
 */
export async function pollHttp({ port, path, ready, timeoutMs, intervalMs = 2, child }) {
  const deadline = performance.now() + timeoutMs;
  let last = 'no answer';
  while (performance.now() < deadline) {
    if (child && child.exitCode !== null)
      throw new Error(`process exited (code ${child.exitCode}) before ${path} was ready`);
    if (child && child.signalCode !== null)
      throw new Error(`process was killed (${child.signalCode}) before ${path} was ready`);
    try {
      const res = await httpGet(port, path, 1000);
      if (ready(res)) return res;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = err.code ?? err.message;
    }
    await delay(intervalMs);
  }
  throw new Error(`${path} on port ${port} not ready after ${timeoutMs} ms (last: ${last})`);
}

// ---------------------------------------------------------------------------------------------
// Child processes

const children = new Set();
const tempDirs = new Set();

/** A temporary directory removed by `removeTempDir`, or at exit if the benchmark is interrupted. */
export function makeTempDir(prefix) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

export function removeTempDir(dir) {
  tempDirs.delete(dir);
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Spawns a child whose stdout/stderr are drained into a bounded tail (shown when it fails) and
 * registers it so it is killed if this process exits or is interrupted.
 */
export function spawnTracked(cmd, args, opts = {}) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  children.add(child);
  let tail = '';
  const keep = (chunk) => {
    tail = (tail + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  child.output = () => tail;
  child.exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    });
    child.once('error', (err) => {
      children.delete(child);
      resolve({ code: null, signal: null, error: err });
    });
  });
  return child;
}

/**
 * Runs a command to completion under spawnTracked (killed with SIGKILL after `timeoutMs`, and at
 * exit if interrupted), keeping its whole output. Resolves { code, signal, stdout, stderr, wallMs,
 * timedOut }; wallMs is spawn -> exit.
 */
export async function execTracked(cmd, args, { timeoutMs = 30_000, ...opts } = {}) {
  const t0 = performance.now();
  const child = spawnTracked(cmd, args, opts);
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

/** SIGTERM, then SIGKILL after `graceMs`; resolves with how long the child took to exit (ms). */
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

const signalCleanups = new Set();
const SIGNAL_CLEANUP_MS = 15_000;

/**
 * Registers an async clean-up (e.g. tearing down the network lab) that a signal runs before this
 * process exits; bounded by SIGNAL_CLEANUP_MS. Returns a function that unregisters it. Normal
 * paths must still clean up in their own finally: this only covers Ctrl-C, SIGTERM and SIGHUP.
 */
export function onSignalCleanup(fn) {
  signalCleanups.add(fn);
  return () => signalCleanups.delete(fn);
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
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(sig, () => {
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
          if (r.status === 'rejected') process.stderr.write(`clean-up failed: ${r.reason?.stack ?? r.reason}\n`);
        clearTimeout(timer);
        process.exit(130);
      });
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Tools and helper processes

/** Whether `cmd` is on the PATH. */
export async function installed(cmd) {
  const r = await execTracked('sh', ['-c', `command -v ${cmd}`], { timeoutMs: 5_000 });
  return r.code === 0;
}

const ICMP_PROBE = join(ROOT, 'bench', '_icmp-probe.mjs');

/** Runs bench/_icmp-probe.mjs MODE (in namespace `ns` if given) and returns the JSON it prints last. */
export async function icmpProbe(mode, args, { ns, timeoutMs = 60_000 } = {}) {
  const argv = [process.execPath, ICMP_PROBE, mode, JSON.stringify({ ...args, hardLimitMs: timeoutMs - 2000 })];
  const r = ns
    ? await execTracked('ip', ['netns', 'exec', ns, ...argv], { timeoutMs })
    : await execTracked(argv[0], argv.slice(1), { timeoutMs });
  const line = r.stdout.trim().split('\n').at(-1) ?? '';
  if (r.code !== 0 || !line.startsWith('{'))
    throw new Error(
      `_icmp-probe ${mode} exited ${r.signal ?? r.code}${r.timedOut ? ' (timed out)' : ''}:\n${r.stderr.slice(-3000)}${r.stdout.slice(-1000)}`,
    );
  return JSON.parse(line);
}
