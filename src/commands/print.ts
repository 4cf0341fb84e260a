import type { CheckResult } from '../checks/check.js';
import { ConfigError, formatDiagnostic, sortDiagnostics } from '../config/diagnostics.js';

interface PrintableHop {
  ttl: number;
  addresses: string[];
  rttMs: number[];
  unreachable?: string;
}

/** One result for people: a status line, then the path when the result carries one. */
export function formatResultLine(r: CheckResult): string {
  const status = r.ok ? 'OK  ' : 'FAIL';
  const ip = r.ip ?? '-';
  const phases = Object.entries(r.phasesMs)
    .map(([name, ms]) => `${name}=${ms.toFixed(3)}ms`)
    .join(' ');
  const line = r.error
    ? `${status} ${r.check} ${ip} ${r.error.code} (${r.error.phase}): ${r.error.message}`
    : `${status} ${r.check} ${ip} ${phases} total=${r.durationMs.toFixed(3)}ms`;
  const path = (r.hops ?? (r.traceroute as { hops?: unknown } | undefined)?.hops) as PrintableHop[] | undefined;
  return Array.isArray(path) ? [line, ...path.map(formatHop)].join('\n') : line;
}

/** A hop as traceroute prints it: `  5  198.18.4.2  0.123 ms 0.101 ms`, `*` when silent. */
function formatHop(hop: PrintableHop): string {
  const who = hop.addresses.length > 0 ? hop.addresses.join(', ') : '*';
  const rtts = hop.rttMs.map((ms) => `${ms.toFixed(3)} ms`).join(' ');
  return `${String(hop.ttl).padStart(3)}  ${who}${rtts ? `  ${rtts}` : ''}${hop.unreachable ? `  !${hop.unreachable}` : ''}`;
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
