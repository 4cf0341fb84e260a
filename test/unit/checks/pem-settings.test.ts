import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dnsKind } from '../../../src/checks/dns/index.js';
import { httpsKind } from '../../../src/checks/https/index.js';
import { builtinRegistry } from '../../../src/checks/registry.js';
import { ConfigError } from '../../../src/config/diagnostics.js';
import { parseConfig } from '../../../src/config/load.js';

// The PEM files a config names (https ca_file, client_cert_file, client_key_file; dns ca_file)
// are checked by the kinds' settings schemas, so `validate`, `run`, a reload, `probe` and
// `diagnose --ca-file` all refuse a missing or wrong file with its position (issue 12 #2).

const CERT = readFileSync(new URL('../../fixtures/pem/localhost.crt', import.meta.url), 'utf8');
const KEY = readFileSync(new URL('../../fixtures/pem/localhost.key', import.meta.url), 'utf8');
const OTHER_KEY = generateKeyPairSync('ec', {
  namedCurve: 'P-256',
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
}).privateKey;

let dir = '';
const file = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vantage-pem-settings-'));
  mkdirSync(join(dir, 'a-directory'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('PEM files in settings: every path that parses settings checks them (issue 12 #2)', () => {
  it.each([
    ['https', 'ca_file'],
    ['https', 'client_cert_file'],
    ['https', 'client_key_file'],
    ['dns', 'ca_file'],
  ] as const)('%s: %s that does not exist is a settings issue on that field', (kind, field) => {
    const missing = join(dir, 'nowhere', 'x.pem');
    const parsed = (kind === 'https' ? httpsKind : dnsKind).parseSettings({ [field]: missing });
    if (parsed.success) throw new Error('parsed');
    expect(parsed.error.issues.map((i) => [i.path, i.message])).toEqual([
      [[field], `${JSON.stringify(missing)} does not exist`],
    ]);
  });

  it('/dev/zero as --ca-file is refused in milliseconds, not read', () => {
    const started = performance.now();
    const parsed = httpsKind.parseSettings({ ca_file: '/dev/zero' });
    expect(performance.now() - started).toBeLessThan(200);
    expect(parsed.success).toBe(false);
  });

  it('accepts real files', () => {
    const parsed = httpsKind.parseSettings({
      ca_file: file('ca.pem', CERT),
      client_cert_file: file('client.crt', CERT),
      client_key_file: file('client.key', KEY),
    });
    expect(parsed.success).toBe(true);
  });
});

describe('PEM files in a config: problems with FILE:LINE:COL and the field (issue 12 #2)', () => {
  const load = (yaml: string) => {
    try {
      parseConfig('vantage.yaml', yaml, { registry: builtinRegistry(), env: {} });
      return [];
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      return err.message.split('\n');
    }
  };

  it('reports each missing or wrong file at its value, all at once', () => {
    const missing = join(dir, 'missing-ca.pem');
    const problems = load(
      [
        'targets:',
        '  - name: web',
        '    url: https://web.example/',
        '    checks:',
        `      - {kind: https, ca_file: ${missing}}`,
        `      - {kind: https, name: mtls, client_cert_file: /dev/zero, client_key_file: ${file('k.pem', CERT)}}`,
        `      - {kind: dns, ca_file: ${join(dir, 'a-directory')}}`,
      ].join('\n'),
    );
    expect(problems).toEqual([
      `vantage.yaml:5:32: targets[0].checks[0].ca_file: ${JSON.stringify(missing)} does not exist`,
      `vantage.yaml:6:53: targets[0].checks[1].client_cert_file: "/dev/zero" is not a regular file (a device): ` +
        'name a PEM file',
      expect.stringMatching(
        /^vantage\.yaml:6:\d+: targets\[0\]\.checks\[1\]\.client_key_file: "[^"]+k\.pem" holds no PEM private key/,
      ),
      expect.stringMatching(
        /^vantage\.yaml:7:30: targets\[0\]\.checks\[2\]\.ca_file: "[^"]+a-directory" is not a regular file/,
      ),
    ]);
  });

  it('reports a client key that does not belong to the certificate at client_key_file', () => {
    const problems = load(
      [
        'targets:',
        '  - name: web',
        '    url: https://web.example/',
        '    checks:',
        '      - kind: https',
        `        client_cert_file: ${file('c.crt', CERT)}`,
        `        client_key_file: ${file('other-client.key', OTHER_KEY)}`,
      ].join('\n'),
    );
    expect(problems).toEqual([
      expect.stringMatching(
        /^vantage\.yaml:7:26: targets\[0\]\.checks\[0\]\.client_key_file: the key in "[^"]+" does not belong to/,
      ),
    ]);
  });
});
