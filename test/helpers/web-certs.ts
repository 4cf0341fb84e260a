import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NEW_EC_KEY } from '../lab/certs.js';

export interface KeyPair {
  cert: string;
  key: string;
}

/** A throw-away CA, a server certificate for 127.0.0.1/localhost, a client one it signed, and a stranger's. */
export interface WebCerts {
  dir: string;
  ca: string;
  server: KeyPair;
  client: KeyPair;
  /** Self-signed: no CA vouches for it. */
  stranger: KeyPair;
}

/**
 * A self-signed certificate and its key, made with the openssl CLI as `dir`/`base`.pem and .key:
 * `subject` as openssl's -subj takes it, `san` as its subjectAltName extension (none when omitted).
 */
export function selfSignedFiles(dir: string, base: string, subject: string, san?: string): KeyPair {
  const key = join(dir, `${base}.key`);
  const cert = join(dir, `${base}.pem`);
  const extension = san ? ['-addext', `subjectAltName=${san}`] : [];
  const args = ['req', '-x509', ...NEW_EC_KEY, '-keyout', key, '-out', cert, '-days', '2', '-subj', subject];
  execFileSync('openssl', [...args, ...extension], { stdio: 'pipe' });
  return { cert, key };
}

/** Made with the openssl CLI in a new temp dir (the caller removes `dir`). */
export function makeWebCerts(): WebCerts {
  const dir = mkdtempSync(join(tmpdir(), 'vantage-web-ca-'));
  const p = (f: string): string => join(dir, f);
  const openssl = (args: string[]): void => void execFileSync('openssl', args, { stdio: 'ignore' });
  const issue = (base: string, cn: string, ext: string): KeyPair => {
    writeFileSync(p(`${base}.ext`), `${ext}\n`);
    openssl([
      'req',
      '-new',
      ...NEW_EC_KEY,
      '-keyout',
      p(`${base}.key`),
      '-out',
      p(`${base}.csr`),
      '-subj',
      `/CN=${cn}`,
    ]);
    openssl([
      'x509',
      '-req',
      '-in',
      p(`${base}.csr`),
      '-CA',
      p('ca.pem'),
      '-CAkey',
      p('ca.key'),
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      p(`${base}.ext`),
      '-out',
      p(`${base}.pem`),
    ]);
    return { cert: p(`${base}.pem`), key: p(`${base}.key`) };
  };
  selfSignedFiles(dir, 'ca', '/CN=Vantage Web Test CA');
  return {
    dir,
    ca: p('ca.pem'),
    server: issue('server', 'localhost', 'subjectAltName=IP:127.0.0.1,DNS:localhost'),
    client: issue('client', 'prometheus', 'subjectAltName=DNS:prometheus.test\nextendedKeyUsage=clientAuth'),
    stranger: selfSignedFiles(dir, 'stranger', '/CN=stranger'),
  };
}
