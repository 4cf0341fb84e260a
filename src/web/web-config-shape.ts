import type { SecureContextOptions } from 'node:tls';

// What a web config is once loaded, apart from its loader (web-config.ts), which the server loads
// only when a file is given.

export const CLIENT_AUTH_TYPES = [
  'NoClientCert',
  'RequestClientCert',
  'RequireAnyClientCert',
  'VerifyClientCertIfGiven',
  'RequireAndVerifyClientCert',
] as const;
export type ClientAuthType = (typeof CLIENT_AUTH_TYPES)[number];

/** TLS as the listener applies it to each connection. */
export interface WebTls {
  /** Certificate, key, CA, versions, ciphers, curves: checked by Node when the file was loaded. */
  options: SecureContextOptions;
  clientAuth: ClientAuthType;
  /** Subject alternative names a client certificate must carry one of (empty: any). */
  allowedSans: readonly string[];
}

/** A validated web config; `PLAIN_WEB_CONFIG` when no file is given. */
export interface WebConfig {
  file: string | undefined;
  /** Hash of the file and the PEM it names: a reload that finds the same one changes nothing. */
  fingerprint: string;
  tls: WebTls | undefined;
  /** User name -> bcrypt hash; empty: no basic auth. */
  users: ReadonlyMap<string, string>;
  headers: Readonly<Record<string, string>>;
  authExcludedPaths: ReadonlySet<string>;
}

export const PLAIN_WEB_CONFIG: WebConfig = Object.freeze({
  file: undefined,
  fingerprint: '',
  tls: undefined,
  users: new Map(),
  headers: {},
  authExcludedPaths: new Set<string>(),
});
