// What one HTTP(S) exchange asks of the client (https-client.ts) and what it brings back.
import type { IncomingHttpHeaders } from 'node:http';
import type { TlsFacts } from './tls-facts.js';

export interface HttpsRequest {
  url: URL;
  /** The address to connect to; the URL's host name stays the SNI and Host. */
  ip: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
  /** Offer HTTP/2 by ALPN (`auto`), or insist on one protocol. */
  httpVersion: 'auto' | '1.1' | '2';
  /**
   * Most body bytes read. A body that goes past it (or declares a larger Content-Length) is not
   * read further: the connection is closed and the exchange ends with `bodyTruncated`.
   */
  maxBodyBytes: number;
  ca?: string;
  clientCert?: { cert: string; key: string };
  sourceAddress?: string;
  signal: AbortSignal;
}

/** The port a request connects to: the URL's own, else its scheme's. */
export function requestPort(url: URL): number {
  return Number(url.port || (url.protocol === 'https:' ? 443 : 80));
}

export interface HttpsExchange {
  status: number;
  httpVersion: string;
  headers: IncomingHttpHeaders;
  /** The body, at most `maxBodyBytes` of it. */
  body: Buffer;
  /** Body bytes received (when truncated: up to where reading stopped). */
  bodyBytes: number;
  /** The body was longer than `maxBodyBytes`: reading stopped there and the connection was closed. */
  bodyTruncated: boolean;
  tls: TlsFacts | null;
  /** connect, tls, request (written), firstByte, headers (complete), transfer, from the connection start. */
  phasesMs: Record<string, number>;
}
