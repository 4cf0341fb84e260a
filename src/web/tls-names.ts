import type { SecureVersion } from 'node:tls';

// exporter-toolkit's web config names TLS parameters as Go's crypto/tls does; Node takes OpenSSL's
// names. These tables translate what both can do; anything else is refused with the reason, so a
// file written for an exporter never runs here with weaker settings than it asked for.

/** Go's `tls.CipherSuites()` (the secure TLS 1.0-1.2 suites exporter-toolkit accepts), as OpenSSL names. */
const CIPHER_SUITES: Readonly<Record<string, string>> = {
  TLS_RSA_WITH_AES_128_CBC_SHA: 'AES128-SHA',
  TLS_RSA_WITH_AES_256_CBC_SHA: 'AES256-SHA',
  TLS_RSA_WITH_AES_128_GCM_SHA256: 'AES128-GCM-SHA256',
  TLS_RSA_WITH_AES_256_GCM_SHA384: 'AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: 'ECDHE-ECDSA-AES128-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: 'ECDHE-ECDSA-AES256-SHA',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: 'ECDHE-RSA-AES128-SHA',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: 'ECDHE-RSA-AES256-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
};

/** TLS 1.3 suites: Go does not let them be chosen, and neither does exporter-toolkit's format. */
const TLS13_SUITES = new Set(['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256']);

/** Go's `tls.CurveID` names, as OpenSSL group names. */
const CURVES: Readonly<Record<string, string>> = {
  CurveP256: 'P-256',
  CurveP384: 'P-384',
  CurveP521: 'P-521',
  X25519: 'X25519',
};

/** Versions Node's OpenSSL 3 negotiates at its default security level. */
const VERSIONS: Readonly<Record<string, SecureVersion>> = { TLS12: 'TLSv1.2', TLS13: 'TLSv1.3' };
const REFUSED_VERSIONS = new Set(['TLS10', 'TLS11']);

/** A translation, or why there is none. */
export type Translated<T> = { ok: true; value: T } | { ok: false; problem: string };

/** `cipher_suites` as an OpenSSL cipher list. */
export function cipherList(names: readonly string[]): Translated<string> {
  const out: string[] = [];
  for (const name of names) {
    const openssl = CIPHER_SUITES[name];
    if (openssl) {
      out.push(openssl);
      continue;
    }
    if (TLS13_SUITES.has(name))
      return refuse(`${name} is a TLS 1.3 suite: they cannot be chosen (as in Go); list TLS 1.2 suites only`);
    return refuse(`unknown or insecure cipher suite "${name}" (known: ${Object.keys(CIPHER_SUITES).join(', ')})`);
  }
  return { ok: true, value: out.join(':') };
}

/** `curve_preferences` as OpenSSL's `ecdhCurve` list. */
export function curveList(names: readonly string[]): Translated<string> {
  const out: string[] = [];
  for (const name of names) {
    const openssl = CURVES[name];
    if (!openssl)
      return refuse(`curve "${name}" is not available in Node's TLS (known: ${Object.keys(CURVES).join(', ')})`);
    out.push(openssl);
  }
  return { ok: true, value: out.join(':') };
}

/** `min_version` / `max_version` as Node's `SecureVersion`. */
export function tlsVersion(name: string): Translated<SecureVersion> {
  const version = VERSIONS[name];
  if (version) return { ok: true, value: version };
  if (REFUSED_VERSIONS.has(name))
    return refuse(`${name} is refused by Node's OpenSSL 3 at its default security level: use TLS12 or TLS13`);
  return refuse(`unknown TLS version "${name}" (use TLS12 or TLS13)`);
}

function refuse(problem: string): { ok: false; problem: string } {
  return { ok: false, problem };
}
