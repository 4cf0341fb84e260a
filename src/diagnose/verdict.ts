import type { CheckResult } from '../checks/check.js';
import type { DnsFields } from '../checks/dns/dns-settings.js';
import type { HttpsFields } from '../checks/https/https-settings.js';

/**
 * One line a support engineer can paste first: "DNS ok via 2 resolvers, 2 IPs; IP 198.51.100.7
 * silent, path ends at hop 5 (198.18.7.2); HTTPS 200 in 84 ms".
 */
export function verdict(
  dns: readonly CheckResult<DnsFields>[],
  ping: readonly CheckResult[],
  https: readonly CheckResult<HttpsFields>[],
): string {
  const parts: string[] = [];
  if (dns.length > 0) {
    const ok = dns.filter((r) => r.ok);
    const hijacked = dns.flatMap((r) => (r.hijack ? [{ resolver: r.resolver, reason: r.hijack.reason }] : []));
    const addresses = new Set(ok.flatMap((r) => r.addresses ?? []));
    if (hijacked.length > 0) {
      const named = new Set(hijacked.map((r) => `${r.resolver ?? '?'} (${r.reason.replace('_', ' ')})`));
      parts.push(`DNS HIJACKED at ${[...named].join(', ')}`);
    }
    const resolvers = new Set(ok.map((r) => r.resolver ?? '?'));
    if (ok.length === 0) parts.push(`DNS FAILS (${[...new Set(dns.map((r) => r.error?.code))].join(', ')})`);
    else
      parts.push(
        `DNS ok via ${plural(resolvers.size, 'resolver')} (${[...resolvers].join(', ')}), ` +
          `${plural(addresses.size, 'IP')}${singleFamily(ok)}`,
      );
  }
  for (const r of ping) {
    if (!r.ip) continue;
    if (r.ok) continue;
    const trace = r.traceroute;
    const last = trace && 'hops' in trace ? trace.hops[trace.lastRespondingHop - 1] : undefined;
    const path = last
      ? `, path ends at hop ${last.ttl} (${last.addresses.join(', ')})`
      : trace
        ? ', nothing on the path answered'
        : '';
    parts.push(`IP ${r.ip} ${r.error?.code === 'ICMP_NO_REPLY' ? 'silent' : (r.error?.code ?? 'failed')}${path}`);
  }
  const answering = ping.filter((r) => r.ok && r.ip);
  if (answering.length > 0)
    parts.push(`${plural(answering.length, 'IP')} answer${answering.length === 1 ? 's' : ''} ping`);
  for (const r of https) {
    parts.push(
      r.ok
        ? `HTTPS ${String(r.status)} in ${Math.round(r.durationMs)} ms via ${r.ip ?? '?'}`
        : `HTTPS ${r.error?.code ?? 'failed'} via ${r.ip ?? '?'}`,
    );
  }
  return parts.join('; ') || 'nothing checked';
}

/**
 * ", IPv4 only" when every resolver that answered both types had A records and no AAAA (NODATA),
 * or the other way round: a finding about the name, not a failure.
 */
function singleFamily(ok: readonly CheckResult<DnsFields>[]): string {
  const has = (type: string): boolean[] =>
    ok.filter((r) => r.queryType === type).map((r) => r.answers?.some((a) => a.type === type) ?? false);
  const [a, aaaa] = [has('A'), has('AAAA')];
  if (a.length === 0 || aaaa.length === 0) return '';
  if (a.every(Boolean) && !aaaa.some(Boolean)) return ', IPv4 only';
  if (aaaa.every(Boolean) && !a.some(Boolean)) return ', IPv6 only';
  return '';
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
