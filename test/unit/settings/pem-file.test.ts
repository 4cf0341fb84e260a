import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  keyPairProblem,
  MAX_PEM_FILE_BYTES,
  pemFileProblem,
  PemFileError,
  readPemFile,
} from '../../../src/settings/pem-file.js';

const CERT = readFileSync(new URL('../../fixtures/pem/localhost.crt', import.meta.url), 'utf8');
const KEY = readFileSync(new URL('../../fixtures/pem/localhost.key', import.meta.url), 'utf8');
const OTHER_KEY = generateKeyPairSync('ec', {
  namedCurve: 'P-256',
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
}).privateKey;
const ENCRYPTED_KEY = generateKeyPairSync('ec', {
  namedCurve: 'P-256',
  privateKeyEncoding: { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
}).privateKey;

let dir = '';
const file = (name: string, text?: string): string => {
  const path = join(dir, name);
  if (text !== undefined) writeFileSync(path, text);
  return path;
};
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vantage-pem-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Runs `f` and says how long it took: refusing a file must never mean reading it. */
function timed<T>(f: () => T): { value: T; ms: number } {
  const started = performance.now();
  const value = f();
  return { value, ms: performance.now() - started };
}

describe('PEM files: what is accepted', () => {
  it('reads a certificate file and a key file', () => {
    expect(readPemFile(file('ok.crt', CERT), 'certificates')).toBe(CERT);
    expect(readPemFile(file('ok.key', KEY), 'private-key')).toBe(KEY);
  });

  it('reads a bundle with comments between certificates, as ca-certificates ships', () => {
    const bundle = `# Example Root CA\n${CERT}\n# Another\n${CERT}`;
    expect(pemFileProblem(file('bundle.pem', bundle), 'certificates')).toBeUndefined();
  });

  it('reads a changed file again (the cache keys on inode, size and times)', () => {
    const path = file('changing.pem', CERT);
    expect(readPemFile(path, 'certificates')).toBe(CERT);
    writeFileSync(path, `# now with a comment line\n${CERT}`);
    expect(readPemFile(path, 'certificates')).toBe(`# now with a comment line\n${CERT}`);
    writeFileSync(path, 'gone');
    expect(() => readPemFile(path, 'certificates')).toThrow(PemFileError);
  });
});

describe('PEM files: what is refused, at once and without reading it (issue 12 #2)', () => {
  beforeAll(() => {
    mkdirSync(join(dir, 'a-directory'));
    execFileSync('mkfifo', [join(dir, 'a-fifo')]);
    symlinkSync('/dev/zero', join(dir, 'zero-link'));
    // Sparse: 3 GiB long, no blocks written.
    writeFileSync(join(dir, 'huge.pem'), '');
    truncateSync(join(dir, 'huge.pem'), 3 * 2 ** 30);
    writeFileSync(join(dir, 'just-over.pem'), `${CERT}${'#'.repeat(MAX_PEM_FILE_BYTES)}`);
  });

  it.each([
    ['a missing file', () => join(dir, 'missing.pem'), /^"[^"]+missing\.pem" does not exist$/],
    [
      'a path through a file',
      () => join(dir, 'ok.crt', 'x'),
      /does not exist \(a part of the path is not a directory\)/,
    ],
    ['a directory', () => join(dir, 'a-directory'), /is not a regular file \(a directory\): name a PEM file$/],
    ['/dev/zero', () => '/dev/zero', /^"\/dev\/zero" is not a regular file \(a device\)/],
    ['a symlink to /dev/zero', () => join(dir, 'zero-link'), /is not a regular file \(a device\)/],
    ['a FIFO nobody writes to', () => join(dir, 'a-fifo'), /is not a regular file \(a FIFO\)/],
    ['a 3 GiB file', () => join(dir, 'huge.pem'), /is larger than 1 MiB: not a PEM file/],
    ['a file one byte past 1 MiB of PEM', () => join(dir, 'just-over.pem'), /is larger than 1 MiB/],
  ])('%s', (_what, path, message) => {
    const { value, ms } = timed(() => pemFileProblem(path(), 'certificates'));
    expect(value).toMatch(message);
    expect(ms).toBeLessThan(200);
  });

  it('reads at most 1 MiB of a file whose size the kernel does not report (/proc)', () => {
    // /proc files stat as 0 bytes; this one is small, but the read is bounded either way.
    expect(pemFileProblem('/proc/self/status', 'certificates')).toMatch(/holds no PEM certificate/);
  });

  it.each([
    ['text that is not PEM', 'certificates', 'hello', /holds no PEM certificate \(-----BEGIN CERTIFICATE-----\)$/],
    ['a key where certificates belong', 'certificates', KEY, /holds no PEM certificate/],
    ['a certificate where a key belongs', 'private-key', CERT, /holds no PEM private key/],
    ['two keys', 'private-key', `${KEY}${OTHER_KEY}`, /holds 2 PEM private keys .*: give exactly one$/],
    ['an encrypted key', 'private-key', ENCRYPTED_KEY, /the private key is encrypted; give it unencrypted/],
    [
      'a certificate block with garbage inside',
      'certificates',
      `${CERT}-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n`,
      /: certificate 2 cannot be read/,
    ],
    [
      'a key block with garbage inside',
      'private-key',
      '-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n',
      /: the private key cannot be read/,
    ],
  ] as const)('%s', (what, content, text, message) => {
    const path = file(`${what.replaceAll(' ', '-')}.pem`, text);
    expect(pemFileProblem(path, content)).toMatch(message);
    expect(() => readPemFile(path, content)).toThrow(PemFileError);
  });

  it('tells a client key that does not belong to the certificate', () => {
    const cert = file('pair.crt', CERT);
    expect(keyPairProblem(cert, file('pair.key', KEY))).toBeUndefined();
    expect(keyPairProblem(cert, file('other.key', OTHER_KEY))).toMatch(
      /^the key in "[^"]+other\.key" does not belong to the first certificate in "[^"]+pair\.crt"$/,
    );
  });
});
