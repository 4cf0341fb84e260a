import type { TraceHop } from '../checks/traceroute/trace.js';
import { esc, ms, table, utc } from './html.js';

/** A traced path hop by hop; a hop that never answered is `*`, as traceroute prints it. */
export function pathView(hops: readonly TraceHop[], caption: string): string {
  const rows = hops.map((h) => {
    const silent = h.addresses.length === 0;
    const sorted = [...h.rttMs].sort((a, b) => a - b);
    const median = sorted.length > 0 ? sorted[Math.floor(sorted.length / 2)]! : Number.NaN;
    return [
      String(h.ttl),
      silent ? '<span class="mute">*</span>' : esc(h.addresses.join(', ')),
      esc(ms(median)),
      esc(`${Math.round(h.loss * 100)} %`),
      esc(h.unreachable ?? ''),
    ];
  });
  return `<p>${esc(caption)}</p>${table(['hop', 'address', 'RTT', 'loss', 'unreachable'], rows, ' class="path"')}`;
}

/** The caption of a traced path: when, to which IP, by what, and whether it got there. */
export function pathCaption(t: number, ip: string, by: string, reached: boolean): string {
  return `Traced ${utc(t)} UTC to ${ip} (${by}): ${reached ? 'reached' : 'did not reach the target'}.`;
}
