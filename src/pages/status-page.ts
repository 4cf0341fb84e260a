import type { CheckSpec } from '../checks/check.js';
import { FAILURE_CODES } from '../errors.js';
import type { FailureCode } from '../errors.js';
import type { IpHistory } from '../history/history-store.js';
import { esc, ms, page, table, utc } from './html.js';
import { diagnoseButton, DIAGNOSE_SCRIPT } from './diagnose-button.js';
import { qualityBadge, rankText } from './quality-badge.js';
import type { StatusSource } from './status-source.js';

/** `/`: who this agent is, its config's state, and every target's last result per check and IP. */
export function statusPage(src: StatusSource): string {
  const config = src.config();
  const body: string[] = [header(src)];
  const state = src.configState();
  body.push('<h2>Config</h2>');
  body.push(
    `<p>Running ${config ? `${config.checks.length} checks` : 'no config yet'}` +
      (state.appliedAt === undefined ? '' : `, applied ${esc(utc(state.appliedAt))} UTC`) +
      '.</p>',
  );
  if (state.rejected.length > 0)
    body.push(
      `<div class="problems" id="rejected"><p class="bad">The config file was rejected` +
        `${state.rejectedAt === undefined ? '' : ` at ${esc(utc(state.rejectedAt))} UTC`}; ` +
        `the agent still runs the previous one. Problems:</p><ul>` +
        state.rejected.map((p) => `<li><code>${esc(p)}</code></li>`).join('') +
        '</ul></div>',
    );
  body.push('<h2>Targets</h2>');
  const byTarget = new Map<string, CheckSpec[]>();
  for (const spec of config?.checks ?? [])
    byTarget.set(spec.target.name, [...(byTarget.get(spec.target.name) ?? []), spec]);
  const rows: string[][] = [];
  for (const [name, specs] of byTarget) {
    const history = src.history(name);
    const link = `<a href="/targets/${encodeURIComponent(name)}">${esc(name)}</a>`;
    const rank = esc(rankText(src.rank?.(name)));
    const lead = [
      link,
      qualityBadge(src.quality(name)),
      rank,
      diagnoseButton(name, config?.diagnoseEndpoint.enabled ?? false),
    ];
    let first = true;
    for (const spec of specs) {
      const ips = [...(history?.checks.find((c) => c.check === spec.name)?.ips.values() ?? [])];
      const cells = ips.length > 0 ? ips.map(lastCells) : [['-', '<span class="mute">no run yet</span>', '', '', '']];
      for (const c of cells) {
        rows.push([...(first ? lead : ['', '', '', '']), esc(spec.name), esc(spec.kind), ...c]);
        first = false;
      }
    }
  }
  body.push(
    table(
      ['target', 'quality', 'rank', '', 'check', 'kind', 'IP', 'last result', 'time', 'failure', 'hint'],
      rows,
      ' class="targets"',
    ),
  );
  body.push('<div id="diagnosis"></div>');
  return page(`Vantage ${config?.agent.id ?? ''}`, body.join('\n'), DIAGNOSE_SCRIPT);
}

/** The page header: identity, egress IP, version, the time the page was made. */
export function header(src: StatusSource): string {
  const agent = src.config()?.agent;
  const who = agent
    ? `region ${agent.region || '-'}, carrier ${agent.carrier || '-'}, network ${agent.networkType || '-'}`
    : '';
  return (
    `<header><h1><a href="/">Vantage</a> ${esc(agent?.id ?? '')}</h1><span>${esc(who)}</span>` +
    `<span>egress IP <b>${esc(src.egressIp() ?? 'unknown')}</b></span>` +
    `<span class="mute">v${esc(src.version)}, page made ${esc(utc(src.wallMs()))} UTC</span>` +
    '<nav><a href="/metrics">/metrics</a> <a href="/healthz">/healthz</a> <a href="/readyz">/readyz</a></nav></header>'
  );
}

/** The last result of one check and IP: address, outcome and figure, time, code, hint. */
function lastCells(h: IpHistory): string[] {
  const r = h.last;
  const sample = h.ring.last();
  const figure = sample && Number.isFinite(sample.ms) ? ms(sample.ms) : ms(r.durationMs);
  const code = r.error?.code;
  return [
    esc(h.ip || '(none)'),
    r.ok ? `<span class="ok">ok</span> ${esc(figure)}` : `<span class="bad">fail</span> ${esc(figure)}`,
    esc(utc(Date.parse(r.startedAt))),
    code ? `<code>${esc(code)}</code> <span class="mute">${esc(r.error?.message ?? '')}</span>` : '',
    code ? esc(hint(code)) : '',
  ];
}

export function hint(code: string): string {
  return code in FAILURE_CODES ? FAILURE_CODES[code as FailureCode] : '';
}
