// What a DNS query asks of the transport (dns-client.ts) and what it brings back.
import type { DnsMessage } from './dns-message.js';

export type DnsTransport = 'udp' | 'tcp' | 'tls' | 'https';

export interface DnsServer {
  transport: DnsTransport;
  /** IP address to send to (for https: the address the URL's host is pinned to). */
  address: string;
  port: number;
  /** TLS server name (tls, https); https: also the Host. */
  serverName?: string;
  /** DoH URL path (https). */
  path?: string;
  /** Extra CA certificates to trust (PEM), for private resolvers. */
  ca?: string;
}

export interface DnsQueryRequest {
  server: DnsServer;
  name: string;
  type: string;
  /** EDNS UDP payload size to advertise; undefined sends no OPT record. */
  ednsUdpSize?: number;
  signal: AbortSignal;
}

export interface DnsExchange {
  message: DnsMessage;
  /** What carried the answer: `tcp` after a truncated UDP answer. */
  transport: DnsTransport;
  /** `ip:port` the answer came from. */
  server: string;
  /** ms: connect (tcp, tls, https), tls (tls, https), request (query sent to answer read), tcp_retry. */
  phasesMs: Record<string, number>;
  responseBytes: number;
}
