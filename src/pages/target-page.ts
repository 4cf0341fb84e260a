import type { CheckHistory } from '../history/history-store.js';
import { diagnoseButton, DIAGNOSE_SCRIPT } from './diagnose-button.js';
import { esc, page } from './html.js';
import { pathCaption, pathView } from './path-view.js';
import { qualityBadge, rankText } from './quality-badge.js';
import { rttChart } from './rtt-chart.js';
import { header } from './status-page.js';
import type { StatusSource } from './status-source.js';
import { waterfall } from './waterfall.js';

/**
 * `/targets/NAME`: per check and IP the RTT chart over the kept history, the last run's phases as
 * a waterfall, the last traced path; undefined for a name that is not a configured target.
 */
export function targetPage(src: StatusSource, name: string): string | undefined {
  const config = src.config();
  const specs = config?.checks.filter((c) => c.target.name === name) ?? [];
  if (!config || specs.length === 0) return undefined;
  const history = src.history(name);
  const quality = src.quality(name);
  const rank = rankText(src.rank?.(name));
  const body = [
    header(src),
    `<h2>${esc(name)} <span class="mute">${esc(specs[0]!.target.url ?? specs[0]!.target.host)}</span></h2>`,
    `<p>Quality: ${qualityBadge(quality, true)}${rank ? `; rank ${esc(rank)}` : ''}. ` +
      `${diagnoseButton(name, config.diagnoseEndpoint.enabled)}</p>`,
  ];
  if (quality && quality.ips.size > 0)
    body.push(`<p>Per IP: ${[...quality.ips].map(([ip, v]) => `${esc(ip)} ${qualityBadge(v)}`).join(', ')}</p>`);
  const routeChanges = history?.routeChanges ?? [];
  for (const spec of specs) {
    body.push(`<h3>${esc(spec.name)} <span class="mute">(${esc(spec.kind)})</span></h3>`);
    const check = history?.checks.find((c) => c.check === spec.name);
    if (!check || check.ips.size === 0) {
      body.push('<p class="mute">No run recorded yet.</p>');
      continue;
    }
    body.push(checkSection(check, routeChanges));
  }
  const trace = history?.trace;
  body.push('<h3>Last traced path</h3>');
  body.push(
    trace
      ? pathView(trace.hops, pathCaption(trace.t, trace.ip, trace.check, trace.reached))
      : '<p class="mute">No path traced yet (a traceroute check, or a failure that triggers one, traces it).</p>',
  );
  body.push('<div id="diagnosis"></div>');
  return page(`${name} - Vantage ${config.agent.id}`, body.join('\n'), DIAGNOSE_SCRIPT);
}

function checkSection(check: CheckHistory, routeChanges: ReadonlyArray<{ t: number; ip: string }>): string {
  const out: string[] = [];
  for (const ip of check.ips.values()) {
    const label = ip.ip || '(no address)';
    const changes = routeChanges.filter((c) => c.ip === ip.ip).map((c) => c.t);
    out.push(`<section class="ip" data-ip="${esc(label)}">`);
    out.push(rttChart(`${check.check} ${label}`, ip.ring.samples(), changes));
    const last = ip.ring.last();
    // Two steps (resolve, then the probe) say nothing the chart does not: a waterfall where a run has more.
    const steps = ip.ring.phaseNames.filter((p) => p !== 'total').length;
    if (last && steps > 2 && last.phasesMs.some(Number.isFinite))
      out.push(waterfall(`last run's phases via ${label}`, ip.ring.phaseNames, last.phasesMs));
    out.push('</section>');
  }
  return out.join('\n');
}
