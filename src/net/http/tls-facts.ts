import type { DetailedPeerCertificate, TLSSocket } from 'node:tls';

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

/** Reads the facts at secureConnect: the peer chain is gone once the connection closes. */
export function tlsFacts(socket: TLSSocket): TlsFacts {
  const leaf = socket.getPeerCertificate(true) as DetailedPeerCertificate | Record<string, never>;
  let earliest: number | null = null;
  const seen = new Set<string>();
  for (
    let cert = leaf as DetailedPeerCertificate | undefined;
    cert && cert.fingerprint256 && !seen.has(cert.fingerprint256);
    cert = cert.issuerCertificate
  ) {
    seen.add(cert.fingerprint256);
    const notAfter = Date.parse(cert.valid_to);
    if (Number.isFinite(notAfter)) earliest = earliest === null ? notAfter : Math.min(earliest, notAfter);
  }
  const cert = 'subject' in leaf ? (leaf as DetailedPeerCertificate) : undefined;
  const error = socket.authorizationError;
  return {
    version: socket.getProtocol() ?? null,
    cipher: socket.getCipher()?.name ?? null,
    alpn: typeof socket.alpnProtocol === 'string' ? socket.alpnProtocol : null,
    authorized: socket.authorized,
    error: error ? String(error) : null,
    certNotAfter: earliest === null ? null : new Date(earliest).toISOString(),
    daysLeft: earliest === null ? null : Math.floor((earliest - Date.now()) / 86_400_000),
    subject: cert?.subject?.CN ? String(cert.subject.CN) : null,
    issuer: cert?.issuer?.CN ? String(cert.issuer.CN) : null,
    san: cert?.subjectaltname ?? null,
  };
}
