// @ts-check
// Helper processes (bench/_*.mjs): a benchmark runs part of its work in a process of its own, for
// clean CPU and memory figures or to sit inside a lab namespace. Each prints JSON as its last line.
import { join } from 'node:path';
import { ROOT } from './dist.mjs';
import { execTracked } from './proc.mjs';

/** @import { SpawnOptions } from 'node:child_process' */

/**
 * `node bench/<script> ...args`, under `ip netns exec <ns>` when `ns` is given, run to completion
 * by execTracked (killed after `timeoutMs`).
 * @param {string} script file name in bench/, e.g. '_dns-probe.mjs'
 * @param {readonly string[]} args
 * @param {{ ns?: string | undefined, timeoutMs?: number }} [options]
 */
export function execHelper(script, args, { ns, timeoutMs = 60_000 } = {}) {
  const argv = [join(ROOT, 'bench', script), ...args];
  /** @type {SpawnOptions & { timeoutMs: number }} */
  const opts = { timeoutMs };
  return ns
    ? execTracked('ip', ['netns', 'exec', ns, process.execPath, ...argv], opts)
    : execTracked(process.execPath, argv, opts);
}

/**
 * Runs a helper (see execHelper) and parses the JSON of the last line it prints; throws with the
 * end of its output when it exits non-zero or prints no JSON. The caller states the shape.
 * @param {string} script
 * @param {readonly string[]} args
 * @param {{ ns?: string | undefined, timeoutMs?: number }} [options]
 * @returns {Promise<unknown>}
 */
export async function helperJson(script, args, options = {}) {
  const r = await execHelper(script, args, options);
  const line = r.stdout.trim().split('\n').at(-1) ?? '';
  if (r.code !== 0 || !/^[[{]/.test(line))
    throw new Error(
      `${script.replace(/\.mjs$/, '')} ${args[0]} exited ${r.signal ?? r.code}${r.timedOut ? ' (timed out)' : ''}:\n` +
        `${r.stderr.slice(-3000)}${r.stdout.slice(-1000)}`,
    );
  return JSON.parse(line);
}

/** @typedef {typeof import('../_icmp-probe.mjs').MODES} IcmpProbeModes */

/**
 * Runs bench/_icmp-probe.mjs MODE (in namespace `ns` if given) and returns the JSON it prints last,
 * typed as that mode's result.
 * @template {keyof IcmpProbeModes} M
 * @param {M} mode
 * @param {Parameters<IcmpProbeModes[M]>[0]} args
 * @param {{ ns?: string, timeoutMs?: number }} [options]
 * @returns {Promise<Awaited<ReturnType<IcmpProbeModes[M]>>>}
 */
export async function icmpProbe(mode, args, { ns, timeoutMs = 60_000 } = {}) {
  const json = JSON.stringify({ ...args, hardLimitMs: timeoutMs - 2000 });
  // The helper's last line is what the mode returned, serialised: the same shape (bigints aside, none).
  return /** @type {Awaited<ReturnType<IcmpProbeModes[M]>>} */ (
    await helperJson('_icmp-probe.mjs', [mode, json], { ns, timeoutMs })
  );
}
