import type { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';

/** What the TLS handshake showed, for the record and metrics. */
export interface TlsFacts {
  version: string | null;
  cipher: string | null;
  alpn: string | null;
  /** Chain verified and valid for the host name. */
  authorized: boolean;
  /** Why not (OpenSSL or Node code, e.g. CERT_HAS_EXPIRED, ERR_TLS_CERT_ALTNAME_INVALID). */
  error: string | null;
  /** Earliest notAfter across the presented chain, ISO 8601. */
  certNotAfter: string | null;
  /** Days from now to certNotAfter (negative when expired). */
  daysLeft: number | null;
  subject: string | null;
  issuer: string | null;
  san: string | null;
}

/** Certificates followed up a presented chain at most: a loop or a hostile server ends there. */
const MAX_CHAIN = 16;

/**
 * Takes what only the live handshake knows, at secureConnect (a few microseconds: the leaf as an
 * X509Certificate, which keeps the presented chain after the connection closes), and returns the
 * facts' reader, to be called once the exchange is over: walking the chain and formatting dates
 * (0.1 ms, more in a fresh process; getPeerCertificate(true) took 0.2-1 ms) then delays no phase,
 * nor the server, which shares the cores with this process while it answers.
 */
export function captureTls(socket: TLSSocket): () => TlsFacts {
  const leaf = socket.getPeerX509Certificate();
  const error = socket.authorizationError;
  const handshake = {
    version: socket.getProtocol() ?? null,
    cipher: socket.getCipher()?.name ?? null,
    alpn: typeof socket.alpnProtocol === 'string' ? socket.alpnProtocol : null,
    authorized: socket.authorized,
    error: error ? String(error) : null,
  };
  let facts: TlsFacts | undefined;
  return () => (facts ??= { ...handshake, ...certificateFacts(leaf) });
}

/** The record's certificate fields, from the leaf and the chain the peer presented. */
function certificateFacts(
  leaf: X509Certificate | undefined,
): Pick<TlsFacts, 'certNotAfter' | 'daysLeft' | 'subject' | 'issuer' | 'san'> {
  const earliest = leaf ? earliestNotAfter(leaf) : null;
  return {
    certNotAfter: earliest === null ? null : new Date(earliest).toISOString(),
    daysLeft: earliest === null ? null : Math.floor((earliest - Date.now()) / 86_400_000),
    subject: leaf ? commonName(leaf.subject) : null,
    issuer: leaf ? commonName(leaf.issuer) : null,
    san: leaf?.subjectAltName ?? null,
  };
}

/** The earliest notAfter across the presented chain (the leaf and the issuers the peer sent). */
function earliestNotAfter(leaf: X509Certificate): number | null {
  let earliest: number | null = null;
  const seen = new Set<string>();
  for (
    let cert: X509Certificate | undefined = leaf;
    cert && seen.size < MAX_CHAIN && !seen.has(cert.fingerprint256);
    cert = cert.issuerCertificate
  ) {
    seen.add(cert.fingerprint256);
    const notAfter = Date.parse(cert.validTo);
    if (Number.isFinite(notAfter)) earliest = earliest === null ? notAfter : Math.min(earliest, notAfter);
  }
  return earliest;
}

/** The first CN of a distinguished name as X509Certificate prints it (one `KEY=value` per line). */
function commonName(name: string): string | null {
  return /^CN=(.*)$/m.exec(name)?.[1] ?? null;
}
