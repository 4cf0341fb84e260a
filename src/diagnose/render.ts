import { formatResultLine } from '../commands/print.js';
import type { CheckResult } from '../checks/check.js';
import type { DiagnosisReport } from './diagnose.js';

/** A resolver's answer on one line: who, what type, which addresses or why not, how fast. */
function dnsLine(r: CheckResult): string {
  const f = r as CheckResult & {
    resolver?: string;
    query?: string;
    answers?: Array<{ type: string; data: string }>;
    rcode?: string;
  };
  const type = f.answers?.[0]?.type ?? '';
  const answers = (f.answers ?? []).map((a) => a.data).join(', ') || (f.rcode ? `(${f.rcode}, no answer)` : '');
  const status = r.ok ? 'OK  ' : 'FAIL';
  const why = r.error ? ` ${r.error.code}: ${r.error.message}` : '';
  return `${status} ${f.resolver ?? '?'} ${type} ${answers} (${r.durationMs.toFixed(1)} ms)${why}`;
}

/** The report as one JSON document (`--json`, and GET /diagnose?format=json). */
export function renderDiagnosisJson(report: DiagnosisReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

/** The report as text to paste into a ticket: verdicts first, then the evidence. */
export function renderDiagnosis(report: DiagnosisReport): string {
  const lines: string[] = [];
  for (const t of report.targets) lines.push(`${t.target}: ${t.verdict}`);
  lines.push('');
  const a = report.agent;
  lines.push(`Time: ${report.time.utc} (local: ${report.time.local})`);
  lines.push(`Agent: ${a.id}, region ${a.region || '-'}, carrier ${a.carrier || '-'}, network ${a.networkType || '-'}`);
  const pub = report.egress.public.map((p) => (p.address ? `${p.address} (${p.url})` : `? (${p.url}: ${p.error})`));
  lines.push(`Egress IP: ${pub.length > 0 ? pub.join(', ') : 'not asked (--egress-url)'}`);
  lines.push(`Interfaces: ${report.egress.interfaces.map((i) => `${i.name} ${i.address}`).join(', ') || '-'}`);
  for (const t of report.targets) {
    lines.push('', `== ${t.target} ==`);
    for (const [title, results] of [
      ['DNS', t.dns],
      ['Ping', t.ping],
      ['Traceroute', t.traceroute],
      ['HTTPS', t.https],
    ] as const) {
      if (results.length === 0) continue;
      lines.push(`${title}:`);
      for (const r of results)
        lines.push(...(title === 'DNS' ? [dnsLine(r)] : formatResultLine(r).split('\n')).map((l) => `  ${l}`));
    }
  }
  return `${lines.join('\n')}\n`;
}
