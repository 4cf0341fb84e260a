import type { CheckResult } from '../checks/check.js';
import type { DnsFields } from '../checks/dns/dns-settings.js';
import { httpsKind } from '../checks/https/index.js';
import type { IcmpFields } from '../checks/icmp/icmp-settings.js';
import type { TracerouteFields } from '../checks/traceroute/traceroute-settings.js';
import { renderDiagnosis } from '../diagnose/render.js';
import type { DiagnosisReport, TargetDiagnosis } from '../diagnose/report.js';
import { COPY_SCRIPT } from './diagnose-button.js';
import { esc, ms, page, table } from './html.js';
import { pathCaption, pathView } from './path-view.js';
import { lossColour } from './rtt-chart.js';
import { waterfall } from './waterfall.js';

/**
 * A diagnosis report as HTML, with the status pages' pictures (HTTPS waterfall, traced paths),
 * and its text rendering to copy into a ticket. The `<main>` element is what the status page
 * puts in place when a report is asked for there.
 */
export function diagnosisMain(report: DiagnosisReport): string {
  const a = report.agent;
  const pub = report.egress.public.map((p) => `${p.address ?? '?'} (${p.url}${p.error ? `: ${p.error}` : ''})`);
  const parts = [
    `<section class="report"><h2>Diagnosis ${esc(report.time.utc)}</h2>`,
    `<ul>${report.targets.map((t) => `<li><b>${esc(t.target)}</b>: ${esc(t.verdict)}</li>`).join('')}</ul>`,
    `<p>Agent ${esc(a.id)}, region ${esc(a.region || '-')}, carrier ${esc(a.carrier || '-')}, network ` +
      `${esc(a.networkType || '-')}. Egress IP: ${esc(pub.join(', ') || 'not asked')}. Interfaces: ` +
      `${esc(report.egress.interfaces.map((i) => `${i.name} ${i.address}`).join(', ') || '-')}. ` +
      `Local time: ${esc(report.time.local)}.</p>`,
    ...report.targets.map(targetSection),
    `<p><button type="button" class="copy">Copy as text</button></p>`,
    `<details><summary>Report as text</summary>` +
      `<pre class="report-text">${esc(renderDiagnosis(report))}</pre></details>`,
    '</section>',
  ];
  return `<main>${parts.join('\n')}</main>`;
}

/** The report as one self-contained file (styles, pictures and script inline): `vantage diagnose --html`. */
export function diagnosisDocument(report: DiagnosisReport): string {
  return page(`Vantage diagnosis ${report.time.utc}`, diagnosisMain(report), COPY_SCRIPT);
}

function targetSection(t: TargetDiagnosis): string {
  const out = [`<h3>${esc(t.target)}</h3>`, `<p><b>${esc(t.verdict)}</b></p>`];
  if (t.dns.length > 0)
    out.push('<h4>DNS</h4>', table(['resolver', 'type', 'answers', 'rcode', 'time', 'result'], t.dns.map(dnsRow)));
  if (t.ping.length > 0)
    out.push(
      '<h4>Ping</h4>',
      table(['IP', 'sent', 'received', 'loss', 'RTT min / median / max', 'result'], t.ping.map(pingRow)),
    );
  for (const r of [...t.ping, ...t.traceroute]) {
    const own = r as CheckResult<Pick<TracerouteFields, 'hops' | 'reached'>>;
    const trace = own.hops
      ? { hops: own.hops, reached: own.reached ?? false }
      : r.traceroute && 'hops' in r.traceroute
        ? r.traceroute
        : undefined;
    if (trace)
      out.push(
        `<h4>Path to ${esc(r.ip ?? '?')}</h4>`,
        pathView(trace.hops, pathCaption(Date.parse(r.startedAt), r.ip ?? '?', r.check, trace.reached)),
      );
  }
  for (const r of t.https) {
    out.push(
      `<h4>HTTPS via ${esc(r.ip ?? '?')}</h4>`,
      `<p>${r.ok ? `<span class="ok">${esc(String(r.status))}</span>` : outcome(r)} in ${esc(ms(r.durationMs))}</p>`,
      waterfall(
        `phases via ${r.ip ?? '?'}`,
        httpsKind.phases,
        httpsKind.phases.map((p) => r.phasesMs[p] ?? Number.NaN),
      ),
    );
  }
  return out.join('\n');
}

function outcome(r: CheckResult): string {
  return r.ok
    ? '<span class="ok">ok</span>'
    : `<span class="bad">${esc(r.error?.code ?? 'failed')}</span> ${esc(r.error?.message ?? '')}`;
}

function dnsRow(r: CheckResult<DnsFields>): string[] {
  const answers = (r.answers ?? []).map((a) => a.data).join(', ');
  return [
    esc(r.resolver ?? '?'),
    esc(r.queryType ?? ''),
    esc(answers || '-'),
    esc(r.rcode ?? ''),
    esc(ms(r.durationMs)),
    outcome(r),
  ];
}

function pingRow(r: CheckResult<IcmpFields>): string[] {
  const rtt = r.rttMs;
  const loss = r.loss ?? 1;
  return [
    esc(r.ip ?? '?'),
    esc(String(r.sent ?? 0)),
    esc(String(r.received ?? 0)),
    `<i class="swatch" style="background:${lossColour(loss)}"></i>${esc(`${Math.round(loss * 100)} %`)}`,
    esc(rtt ? `${ms(rtt.min)} / ${ms(rtt.median)} / ${ms(rtt.max)}` : '-'),
    outcome(r),
  ];
}
