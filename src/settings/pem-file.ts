import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync, statSync } from 'node:fs';
import type { BigIntStats } from 'node:fs';
import * as z from 'zod';

// PEM files named by the config (CA bundles, client certificates and keys) are checked when the
// config is loaded, so a missing or wrong file is a config error with its position, not a crash
// when the check is created. They are read with a bound: `/dev/zero`, a FIFO or a multi-gigabyte
// file given by mistake must be refused at once, not read until memory runs out.

/** Largest PEM file read: the full public root bundle (ca-certificates.crt) is about 220 KiB. */
export const MAX_PEM_FILE_BYTES = 1_048_576;

/** What a PEM file must hold: certificates (a CA bundle, a client chain) or one private key. */
export type PemContent = 'certificates' | 'private-key';

/** Why a PEM file cannot be used; the message names the file and the fix. */
export class PemFileError extends Error {
  override readonly name = 'PemFileError';
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;
const CERTIFICATE_LABELS = new Set(['CERTIFICATE', 'TRUSTED CERTIFICATE', 'X509 CERTIFICATE']);

/** Files read lately, by path, with the identity (inode, size, times) they were read under. */
const cache = new Map<string, { identity: string; text: string }>();
const CACHE_ENTRIES = 32;

/**
 * The text of a PEM file, checked: a readable regular file of at most `MAX_PEM_FILE_BYTES`
 * holding PEM `content` that Node can load. Throws `PemFileError`. An unchanged file (same inode,
 * size and times) is not read again, so a config naming one CA bundle in many checks reads it once.
 */
export function readPemFile(path: string, content: PemContent): string {
  const stat = statOf(path);
  const key = `${content} ${path}`;
  const identity = identityOf(stat);
  const hit = cache.get(key);
  if (hit && hit.identity === identity) return hit.text;
  const text = readBounded(path);
  checkContent(path, text, content);
  cache.delete(key);
  cache.set(key, { identity, text });
  if (cache.size > CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
  return text;
}

/** Why the file cannot be used as `content`, or undefined. */
export function pemFileProblem(path: string, content: PemContent): string | undefined {
  try {
    readPemFile(path, content);
    return undefined;
  } catch (err) {
    if (err instanceof PemFileError) return err.message;
    throw err;
  }
}

/**
 * Why the key in `keyPath` is not the key of the first certificate in `certPath` (a client
 * certificate pair that TLS would refuse at every run), or undefined; unreadable files are the
 * schema's to report.
 */
export function keyPairProblem(certPath: string, keyPath: string): string | undefined {
  let cert: X509Certificate;
  let key: KeyObject;
  try {
    const first = [...readPemFile(certPath, 'certificates').matchAll(BLOCK)].find((b) => b[1] === 'CERTIFICATE');
    if (!first) return undefined;
    cert = new X509Certificate(first[0]);
    key = createPrivateKey(readPemFile(keyPath, 'private-key'));
  } catch {
    return undefined;
  }
  return cert.checkPrivateKey(key)
    ? undefined
    : `the key in ${quote(keyPath)} does not belong to the first certificate in ${quote(certPath)}`;
}

/** A path to a PEM file, refused at load time when `pemFileProblem` finds one. */
export const pemFileSchema = (content: PemContent) =>
  z.string().superRefine((path, ctx) => {
    const problem = pemFileProblem(path, content);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

function statOf(path: string): BigIntStats {
  let stat: BigIntStats;
  try {
    stat = statSync(path, { bigint: true });
  } catch (err) {
    throw new PemFileError(`${quote(path)} ${systemReason(err)}`);
  }
  if (!stat.isFile()) throw new PemFileError(`${quote(path)} is not a regular file (${kindOf(stat)}): name a PEM file`);
  if (stat.size > BigInt(MAX_PEM_FILE_BYTES)) throw tooLarge(path);
  return stat;
}

/**
 * Reads at most `MAX_PEM_FILE_BYTES` + 1 bytes. Opened non-blocking, so a file swapped for a FIFO
 * after the stat cannot hold the open; the descriptor is checked again to be a regular file.
 */
function readBounded(path: string): string {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (err) {
    throw new PemFileError(`${quote(path)} ${systemReason(err)}`);
  }
  try {
    const stat = fstatSync(fd, { bigint: true });
    if (!stat.isFile())
      throw new PemFileError(`${quote(path)} is not a regular file (${kindOf(stat)}): name a PEM file`);
    const buffer = Buffer.allocUnsafe(MAX_PEM_FILE_BYTES + 1);
    let length = 0;
    for (;;) {
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
      if (length > MAX_PEM_FILE_BYTES) throw tooLarge(path);
    }
    return buffer.toString('utf8', 0, length);
  } catch (err) {
    if (err instanceof PemFileError) throw err;
    throw new PemFileError(`${quote(path)} ${systemReason(err)}`);
  } finally {
    closeSync(fd);
  }
}

function checkContent(path: string, text: string, content: PemContent): void {
  const blocks = [...text.matchAll(BLOCK)];
  if (content === 'certificates') {
    const certificates = blocks.filter((b) => CERTIFICATE_LABELS.has(b[1]!));
    if (certificates.length === 0)
      throw new PemFileError(`${quote(path)} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
    for (const [i, block] of certificates.entries()) {
      if (block[1] !== 'CERTIFICATE') continue;
      try {
        new X509Certificate(block[0]);
      } catch (err) {
        throw new PemFileError(`${quote(path)}: certificate ${i + 1} cannot be read (${errorText(err)})`);
      }
    }
    return;
  }
  const keys = blocks.filter((b) => b[1]!.endsWith('PRIVATE KEY'));
  if (keys.length !== 1)
    throw new PemFileError(
      `${quote(path)} holds ${keys.length === 0 ? 'no' : keys.length} PEM private key${keys.length > 1 ? 's' : ''} ` +
        '(-----BEGIN PRIVATE KEY-----): give exactly one',
    );
  // PKCS#8 `ENCRYPTED PRIVATE KEY`, or a traditional key with a `Proc-Type: 4,ENCRYPTED` header.
  if (keys[0]![1] === 'ENCRYPTED PRIVATE KEY' || /^Proc-Type: *4, *ENCRYPTED/m.test(keys[0]![0]))
    throw new PemFileError(
      `${quote(path)}: the private key is encrypted; give it unencrypted (openssl pkey -in KEY -out FILE)`,
    );
  try {
    createPrivateKey(keys[0]![0]);
  } catch (err) {
    throw new PemFileError(`${quote(path)}: the private key cannot be read (${errorText(err)})`);
  }
}

function tooLarge(path: string): PemFileError {
  return new PemFileError(
    `${quote(path)} is larger than ${MAX_PEM_FILE_BYTES / 1_048_576} MiB: not a PEM file of certificates or a key`,
  );
}

function identityOf(stat: BigIntStats): string {
  return [stat.dev, stat.ino, stat.size, stat.mtimeNs, stat.ctimeNs].join(':');
}

function kindOf(stat: BigIntStats): string {
  if (stat.isDirectory()) return 'a directory';
  if (stat.isFIFO()) return 'a FIFO';
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'a device';
  if (stat.isSocket()) return 'a socket';
  return 'not a file';
}

function systemReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'does not exist';
  if (code === 'EACCES' || code === 'EPERM') return 'cannot be read (permission denied)';
  if (code === 'ENOTDIR') return 'does not exist (a part of the path is not a directory)';
  return `cannot be read (${code ?? errorText(err)})`;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function quote(path: string): string {
  return JSON.stringify(path.length > 200 ? `${path.slice(0, 200)}...` : path);
}
