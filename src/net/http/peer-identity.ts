import type { X509Certificate } from 'node:crypto';
import type { PeerCertificate, TLSSocket } from 'node:tls';

/** The two fields of a peer certificate that `tls.checkServerIdentity` reads. */
export type PeerIdentity = Pick<PeerCertificate, 'subjectaltname'> & { subject: { CN?: string | string[] } };

/**
 * The leaf's names as `tls.checkServerIdentity` reads them: its subjectAltName string (the same
 * OpenSSL rendering the legacy object carries) and the subject's CN, an array when repeated.
 */
export function peerIdentity(leaf: X509Certificate | undefined): PeerIdentity {
  if (!leaf) return { subjectaltname: '', subject: {} };
  const names = [...leaf.subject.matchAll(/^CN=(.*)$/gm)].map((m) => m[1] ?? '');
  const cn = names.length > 1 ? names : names[0];
  return { subjectaltname: leaf.subjectAltName ?? '', subject: cn === undefined ? {} : { CN: cn } };
}

/**
 * Node's client checks the server's name with `getPeerCertificate(true)`: the whole presented chain
 * as JavaScript objects, each certificate's DER, public key and three fingerprints, built in every
 * handshake, of which the check reads the leaf's subjectaltname and subject CN (5.2 % of all CPU
 * samples of an agent of 12,000 checks making 100 handshakes a second, bench/scale.mjs). On `socket`
 * that call returns those two fields from the leaf's X509Certificate instead; the check is still
 * Node's own, so its rules (wildcards, IP SANs, CN only without DNS SANs) and its error
 * (ERR_TLS_CERT_ALTNAME_INVALID) do not change. Nothing of ours reads getPeerCertificate (the
 * record's facts come from getPeerX509Certificate, tls-facts.ts). That one is read once and kept:
 * on a client socket Node's takes the leaf off the presented chain it reads from, so a second call
 * returned the next certificate, or none (the record's subject and expiry came out null).
 */
export function checkNameFromLeaf(socket: TLSSocket): void {
  const read = socket.getPeerX509Certificate.bind(socket);
  let leaf: { value: X509Certificate | undefined } | undefined;
  const leafOnce = (): X509Certificate | undefined => (leaf ??= { value: read() }).value;
  for (const [method, value] of [
    ['getPeerX509Certificate', leafOnce],
    ['getPeerCertificate', () => peerIdentity(leafOnce())],
  ] as const) {
    Object.defineProperty(socket, method, { value, configurable: true, writable: true });
  }
}
