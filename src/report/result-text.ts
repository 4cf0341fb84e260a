// Results as people and scripts read them: `vantage once`, `probe` and diagnose reports.
import type { CheckResult } from '../checks/check.js';
import { isTracerouteResult } from '../checks/traceroute/index.js';
import type { TraceHop } from '../checks/traceroute/trace.js';

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
  const traced = r.traceroute && 'hops' in r.traceroute ? r.traceroute.hops : undefined;
  const path = isTracerouteResult(r) ? r.hops : traced;
  return path ? [line, ...path.map(formatHop)].join('\n') : line;
}

/** A hop as traceroute prints it: `  5  198.18.4.2  0.123 ms 0.101 ms`, `*` when silent. */
function formatHop(hop: TraceHop): string {
  const who = hop.addresses.length > 0 ? hop.addresses.join(', ') : '*';
  const rtts = hop.rttMs.map((ms) => `${ms.toFixed(3)} ms`).join(' ');
  const unreachable = hop.unreachable ? `  !${hop.unreachable}` : '';
  return `${String(hop.ttl).padStart(3)}  ${who}${rtts ? `  ${rtts}` : ''}${unreachable}`;
}

/** NDJSON: one record per line, the format of `--json`. */
export function formatResultJson(r: CheckResult): string {
  return JSON.stringify(r);
}
