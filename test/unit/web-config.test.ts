import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/diagnostics.js';
import { connectionCap, openFileLimit } from '../../src/web/fd-limit.js';
import { parseWebConfig } from '../../src/web/web-config.js';
import { makeWebCerts } from '../helpers/web-certs.js';

const certs = makeWebCerts();
afterAll(() => rmSync(certs.dir, { recursive: true, force: true }));
const HASH = bcrypt.hashSync('s3cret', 4);
/** A valid TLS section, for cases that add one bad setting to it. */
const TLS = 'tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n';

/** Parses `text` as a web config file in the certificates' directory (relative paths resolve there). */
function parse(text: string) {
  const file = join(certs.dir, 'web.yml');
  writeFileSync(file, text);
  return parseWebConfig(file, text);
}

function problems(text: string): string[] {
  try {
    parse(text);
  } catch (err) {
    if (err instanceof ConfigError) return err.message.split('\n');
    throw err;
  }
  throw new Error('the web config was accepted');
}

describe('web config file (exporter-toolkit format)', () => {
  it('an empty file is plain HTTP without auth', () => {
    const config = parse('');
    expect(config.tls).toBeUndefined();
    expect(config.users.size).toBe(0);
  });

  it('reads TLS with paths relative to the file, users, exempt paths and headers', () => {
    const config = parse(`
tls_server_config:
  cert_file: server.pem
  key_file: server.key
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: ca.pem
  min_version: TLS13
  curve_preferences: [X25519, CurveP256]
basic_auth_users:
  prom: '${HASH}'
auth_excluded_paths: [/healthz, /readyz]
http_server_config:
  http2: false
  headers:
    X-Frame-Options: deny
    Content-Security-Policy: ''
`);
    expect(config.tls?.clientAuth).toBe('RequireAndVerifyClientCert');
    expect([...config.users.keys()]).toEqual(['prom']);
    expect([...config.authExcludedPaths]).toEqual(['/healthz', '/readyz']);
    expect(config.headers).toEqual({ 'X-Frame-Options': 'deny' });
    expect(config.fingerprint).toMatch(/^[0-9a-f]{64}$/);
  });

  it.each([
    ['tls_server_config:\n  cert_file: server.pem\n', 'web.yml:2:3: tls_server_config: key_file (or key) is required'],
    [
      'tls_server_config:\n  cert_file: nope.pem\n  key_file: server.key\n',
      'web.yml:2:14: tls_server_config.cert_file:',
    ],
    [
      'tls_server_config:\n  cert_file: server.pem\n  key_file: client.key\n',
      'web.yml:2:3: tls_server_config: Node cannot use these settings',
    ],
    [
      TLS + '  client_auth_type: RequireAndVerifyClientCert\n',
      'tls_server_config.client_auth_type: RequireAndVerifyClientCert needs client_ca_file',
    ],
    [
      TLS + '  client_ca_file: ca.pem\n',
      'tls_server_config.client_auth_type: client_ca_file is set but NoClientCert never asks',
    ],
    [TLS + '  client_auth_type: Sometimes\n', 'web.yml:4:21: tls_server_config.client_auth_type:'],
    [TLS + '  min_version: TLS10\n', "tls_server_config.min_version: TLS10 is refused by Node's OpenSSL 3"],
    [TLS + '  min_version: TLS13\n  max_version: TLS12\n', 'tls_server_config.min_version: above max_version'],
    [
      TLS + '  cipher_suites: [TLS_AES_128_GCM_SHA256]\n',
      'tls_server_config.cipher_suites: TLS_AES_128_GCM_SHA256 is a TLS 1.3 suite',
    ],
    [
      TLS + '  cipher_suites: [TLS_RSA_WITH_RC4_128_SHA]\n',
      'tls_server_config.cipher_suites: unknown or insecure cipher suite "TLS_RSA_WITH_RC4_128_SHA"',
    ],
    [
      TLS + '  curve_preferences: [X25519MLKEM768]\n',
      'tls_server_config.curve_preferences: curve "X25519MLKEM768" is not available',
    ],
    [
      TLS + '  client_allowed_sans: [a]\n',
      'tls_server_config.client_allowed_sans: needs client_auth_type RequireAndVerifyClientCert',
    ],
    ['basic_auth_users:\n  prom: hunter2\n', 'web.yml:2:9: basic_auth_users.prom: not a bcrypt hash'],
    ['auth_excluded_paths: [/metrics]\n', 'only /healthz and /readyz can skip basic auth'],
    [
      'http_server_config:\n  headers:\n    Server: x\n',
      'http_server_config.headers.Server: header "Server" cannot be set',
    ],
    ['http_server_config:\n  headers:\n    X-Frame-Options: allow\n', '"allow" is not one of deny, sameorigin'],
    ['rate_limit:\n  interval: 1s\n', 'rate_limit: not supported'],
    ['tls_config:\n  cert_file: x\n', 'web.yml:1:1: tls_config: unknown key "tls_config"'],
  ])('refuses %j naming file, line and field', (text, expected) => {
    const found = problems(text);
    expect(found.join('\n')).toContain(expected);
    expect(found.every((line) => line.startsWith(join(certs.dir, 'web.yml')))).toBe(true);
  });
});

describe('connection cap', () => {
  it('reads the open-file limit and keeps half of it for probes', () => {
    const limits = ['Limit  Soft Limit  Hard Limit  Units', 'Max open files  1024  4096  files', ''].join('\n');
    expect(openFileLimit(limits)).toBe(1024);
    expect(connectionCap(1000, 1024)).toBe(512);
    expect(connectionCap(1000, 1_048_576)).toBe(1000);
    expect(connectionCap(1000, undefined)).toBe(1000);
    expect(openFileLimit()).toBeGreaterThan(0);
  });
});
