import { isIP } from 'node:net';
import { stripBrackets } from '../../net/address.js';
import type { DnsTransport } from '../../net/dns/dns-client.js';

/** A resolver as configured: the system resolver, or a server reached over one transport. */
export type ResolverSpec =
  | { kind: 'system'; label: 'system' }
  | {
      kind: 'server';
      label: string;
      transport: DnsTransport;
      host: string;
      port: number;
      serverName?: string;
      path?: string;
    };

const DEFAULT_PORT: Record<DnsTransport, number> = { udp: 53, tcp: 53, tls: 853, https: 443 };

/**
 * Parses `system`, `1.1.1.1`, `1.1.1.1:5353`, `[2001:db8::1]:53`, `udp://…`, `tcp://…`,
 * `tls://1.1.1.1#cloudflare-dns.com` (the TLS name after `#`), `https://dns.example/dns-query`.
 * Returns a string saying what is wrong instead of throwing.
 */
export function parseResolver(text: string): ResolverSpec | string {
  const trimmed = text.trim();
  if (trimmed === 'system') return { kind: 'system', label: 'system' };
  if (trimmed.startsWith('https://')) {
    let url: URL;
    try {
      url = new URL(trimmed);
    } catch {
      return `"${text}" is not a URL`;
    }
    return {
      kind: 'server',
      label: trimmed,
      transport: 'https',
      host: stripBrackets(url.hostname),
      port: Number(url.port || 443),
      serverName: stripBrackets(url.hostname),
      path: url.pathname + url.search,
    };
  }
  const m = /^(?:(udp|tcp|tls):\/\/)?([^#]+?)(?:#(.+))?$/.exec(trimmed);
  if (!m)
    return (
      `"${text}" is not a resolver: write system, IP[:PORT], udp://, tcp://, tls://IP[:PORT][#NAME] or ` +
      `https://HOST/PATH`
    );
  const transport = (m[1] ?? 'udp') as DnsTransport;
  const hostPart = m[2] ?? '';
  const hp =
    /^\[([^\]]+)\](?::(\d+))?$/.exec(hostPart) ??
    (isIP(hostPart) === 6 ? [hostPart, hostPart, undefined] : /^([^:]+)(?::(\d+))?$/.exec(hostPart));
  if (!hp) return `"${text}" has no host`;
  const host = hp[1] ?? '';
  const port = hp[2] ? Number(hp[2]) : DEFAULT_PORT[transport];
  if (!(port >= 1 && port <= 65_535)) return `"${text}" has a bad port`;
  if (transport !== 'tls' && isIP(host) === 0)
    return `"${text}": a ${transport} resolver is an IP address (names need a resolver themselves)`;
  return { kind: 'server', label: trimmed, transport, host, port, ...(m[3] ? { serverName: m[3] } : {}) };
}
