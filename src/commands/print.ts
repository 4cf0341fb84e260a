import type { CheckResult } from '../checks/check.js';
import { formatResultJson, formatResultLine } from '../report/result-text.js';
import { ConfigError, formatDiagnostic, sortDiagnostics } from '../config/diagnostics.js';

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
