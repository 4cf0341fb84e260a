import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkServerIdentity } from 'node:tls';
import type { PeerCertificate } from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { peerIdentity } from '../../src/net/http/peer-identity.js';
import { NEW_EC_KEY } from '../lab/certs.js';

const dir = mkdtempSync(join(tmpdir(), 'vantage-peer-identity-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A self-signed certificate with this subject and, when given, these subjectAltNames (openssl CLI). */
function certificate(name: string, subject: string, san?: string): X509Certificate {
  const out = join(dir, `${name}.pem`);
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      ...NEW_EC_KEY,
      '-keyout',
      join(dir, `${name}.key`),
      '-out',
      out,
      '-days',
      '2',
      '-subj',
      subject,
      ...(san ? ['-addext', `subjectAltName=${san}`] : []),
    ],
    { stdio: 'ignore' },
  );
  return new X509Certificate(readFileSync(out));
}

const HOSTS = [
  'example.test',
  'www.example.test',
  'a.b.example.test',
  'other.test',
  'cn-only.test',
  'second.test',
  '127.0.0.1',
  '127.0.0.2',
  '::1',
  '0:0:0:0:0:0:0:1',
  'WWW.Example.Test.',
];

describe('the name check from the leaf alone', () => {
  const certs = {
    wildcard: certificate('wildcard', '/CN=ignored.test', 'DNS:*.example.test,DNS:example.test'),
    ips: certificate('ips', '/CN=ips.test', 'IP:127.0.0.1,IP:::1'),
    cnOnly: certificate('cn', '/CN=cn-only.test'),
    twoCns: certificate('two-cns', '/CN=cn-only.test/CN=second.test'),
    partial: certificate('partial', '/O=Vantage', 'DNS:w*.example.test,DNS:*.*.example.test'),
  };

  // checkServerIdentity is typed for a whole PeerCertificate; it reads subjectaltname and subject.CN only.
  it.each(Object.entries(certs))('decides as Node does with the whole certificate object (%s)', (_, cert) => {
    for (const host of HOSTS) {
      // toLegacyObject() is what getPeerCertificate() returns for the leaf.
      const whole = checkServerIdentity(host, cert.toLegacyObject() as PeerCertificate);
      const light = checkServerIdentity(host, peerIdentity(cert) as PeerCertificate);
      expect({ host, error: light?.message }).toEqual({ host, error: whole?.message });
    }
  });

  it('accepts and refuses as it should (the comparison above is not between two wrong answers)', () => {
    const check = (host: string, cert: X509Certificate | undefined): string | undefined =>
      (checkServerIdentity(host, peerIdentity(cert) as PeerCertificate) as NodeJS.ErrnoException | undefined)?.code;
    expect(check('www.example.test', certs.wildcard)).toBeUndefined();
    expect(check('a.b.example.test', certs.wildcard)).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    expect(check('::1', certs.ips)).toBeUndefined();
    expect(check('127.0.0.2', certs.ips)).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    expect(check('second.test', certs.twoCns)).toBeUndefined();
    expect(check('ignored.test', certs.wildcard)).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    expect(check('x.test', undefined)).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
  });
});
