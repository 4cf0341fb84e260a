import type { CheckResult } from '../checks/check.js';
import { ConfigError, formatDiagnostic, sortDiagnostics } from '../config/diagnostics.js';

/** One result as a line for people: status, check, IP, phases or failure. */
export function formatResultLine(r: CheckResult): string {
  const status = r.ok ? 'OK  ' : 'FAIL';
  const ip = r.ip ?? '-';
  if (r.error) return `${status} ${r.check} ${ip} ${r.error.code} (${r.error.phase}): ${r.error.message}`;
  const phases = Object.entries(r.phasesMs)
    .map(([name, ms]) => `${name}=${ms.toFixed(3)}ms`)
    .join(' ');
  return `${status} ${r.check} ${ip} ${phases} total=${r.durationMs.toFixed(3)}ms`;
}

/** NDJSON: one record per line, the format of `--json`. */
export function formatResultJson(r: CheckResult): string {
  return JSON.stringify(r);
}

export function printResults(results: readonly CheckResult[], json: boolean): void {
  for (const r of results) process.stdout.write(`${json ? formatResultJson(r) : formatResultLine(r)}\n`);
}

/** Prints a command's usage and returns exit code 0. */
export function printHelp(text: string): number {
  process.stdout.write(`${text}\n`);
  return 0;
}

/** Prints every config problem as FILE:LINE:COL: message and returns exit code 2; rethrows anything else. */
export function printConfigError(err: unknown): number {
  if (!(err instanceof ConfigError)) throw err;
  for (const d of sortDiagnostics(err.diagnostics)) process.stderr.write(`${formatDiagnostic(d)}\n`);
  return 2;
}
