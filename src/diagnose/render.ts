import type { CheckResult } from '../checks/check.js';
import type { DnsFields } from '../checks/dns/dns-settings.js';
import { formatResultLine } from '../report/result-text.js';
import type { DiagnosisReport } from './report.js';
import type { ReportQuality } from '../quality/report-quality.js';

/** A resolver's answer on one line: who, what type, which addresses or why not, how fast. */
function dnsLine(f: CheckResult<DnsFields>): string {
  const type = f.queryType ?? f.answers?.[0]?.type ?? '';
  // NOERROR without records of the type is NODATA: the name exists, it only lacks these records.
  const none = f.rcode === 'NOERROR' ? `no ${type} records` : f.rcode ? `(${f.rcode}, no answer)` : '';
  const answers = (f.answers ?? []).map((a) => a.data).join(', ') || none;
  const status = f.ok ? 'OK  ' : 'FAIL';
  const why = f.error ? ` ${f.error.code}: ${f.error.message}` : '';
  return `${status} ${f.resolver ?? '?'} ${type} ${answers} (${f.durationMs.toFixed(1)} ms)${why}`;
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
    if (t.quality) lines.push(qualityLine(t.quality));
    const sections: Array<[string, string[]]> = [
      ['DNS', t.dns.map(dnsLine)],
      ['Ping', t.ping.map(formatResultLine)],
      ['Traceroute', t.traceroute.map(formatResultLine)],
      ['HTTPS', t.https.map(formatResultLine)],
    ];
    for (const [title, entries] of sections) {
      if (entries.length === 0) continue;
      lines.push(`${title}:`);
      for (const entry of entries) lines.push(...entry.split('\n').map((l) => `  ${l}`));
    }
  }
  return `${lines.join('\n')}\n`;
}

/** `Quality: good (HTTP RTT 120 ms, transport RTT 35 ms, success 100 %, trend 0.00; agent window, 42 runs)`. */
function qualityLine(q: ReportQuality): string {
  const e = q.estimate;
  const ms = (v: number | null): string => (v === null ? '-' : `${Math.round(v)} ms`);
  const rate = e.successRate === null ? '-' : `${Math.round(e.successRate * 100)} %`;
  const from = q.source === 'agent' ? 'agent window' : 'this report';
  return (
    `Quality: ${q.class} (HTTP RTT ${ms(e.httpRttMs)}, transport RTT ${ms(e.transportRttMs)}, success ${rate}, ` +
    `trend ${e.trend.toFixed(2)}; ${from}, ${q.samples} runs)`
  );
}
