import { constants } from 'node:fs';
import type { Stats } from 'node:fs';
import { open } from 'node:fs/promises';
import { ConfigError } from './diagnostics.js';

/** The largest config accepted: far above any real one (5,000 checks are about 400 KiB). */
export const MAX_CONFIG_BYTES = 16 * 1024 * 1024;
/** The longest a read of the config may take (a local file takes milliseconds). */
export const CONFIG_READ_TIMEOUT_MS = 10_000;

export interface ReadOptions {
  /** Default `CONFIG_READ_TIMEOUT_MS`. */
  timeoutMs?: number;
  /** Abandons the read (shutdown): rejects with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * The config file's text, or a `ConfigError` at 1:1 saying why it cannot be used. The read is
 * bounded: only a regular file is read (a FIFO would block forever, a device such as /dev/zero
 * never ends), at most `MAX_CONFIG_BYTES`, within `timeoutMs` (a hung network filesystem). The
 * file is opened non-blocking, so even opening a FIFO returns at once.
 */
export function readConfigText(file: string, opts: ReadOptions = {}): Promise<string> {
  return withinDeadline(readRegularFile(file), file, opts);
}

/**
 * `work`, unless `opts.timeoutMs` passes first (a `ConfigError` at 1:1 saying so) or `opts.signal`
 * aborts (its reason). A read cannot be cancelled once in the kernel: the caller stops waiting.
 */
export async function withinDeadline<T>(work: Promise<T>, file: string, opts: ReadOptions = {}): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? CONFIG_READ_TIMEOUT_MS;
  // Settles later, or never, when the deadline or the signal wins; nobody is waiting then.
  work.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      reject(
        problem(
          file,
          `reading the config file took longer than ${timeoutMs / 1000}s (a hung filesystem?); nothing was ` +
            'changed',
        ),
      );
    }, timeoutMs);
    timer.unref();
    const { signal } = opts;
    if (!signal) return;
    onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
    if (onAbort) opts.signal?.removeEventListener('abort', onAbort);
  }
}

async function readRegularFile(file: string): Promise<string> {
  let handle;
  try {
    handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw problem(file, `cannot read the config file (${errorCode(err)})`);
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile())
      throw problem(
        file,
        `the config must be a regular file, and this is ${fileType(stat)}: point -c at the YAML file ` +
          '(a symlink to a regular file is fine)',
      );
    if (stat.size > MAX_CONFIG_BYTES) throw tooLarge(file);
    // Read to the end, not to the size stat saw: the file may have grown since.
    let buffer = Buffer.allocUnsafe(Math.min(stat.size, MAX_CONFIG_BYTES) + 1);
    let length = 0;
    for (;;) {
      if (length === buffer.length) {
        if (length > MAX_CONFIG_BYTES) throw tooLarge(file);
        const grown = Buffer.allocUnsafe(Math.min(2 * buffer.length + 65_536, MAX_CONFIG_BYTES + 1));
        buffer.copy(grown, 0, 0, length);
        buffer = grown;
      }
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    return buffer.toString('utf8', 0, length);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw problem(file, `cannot read the config file (${errorCode(err)})`);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

function problem(file: string, message: string): ConfigError {
  return new ConfigError([{ file, line: 1, col: 1, message }]);
}

function tooLarge(file: string): ConfigError {
  return problem(file, `the config file is larger than ${MAX_CONFIG_BYTES / 1024 / 1024} MiB, the most accepted`);
}

function errorCode(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? String(err);
}

function fileType(stat: Stats): string {
  if (stat.isFIFO()) return 'a FIFO (named pipe)';
  if (stat.isCharacterDevice()) return 'a character device';
  if (stat.isBlockDevice()) return 'a block device';
  if (stat.isSocket()) return 'a socket';
  if (stat.isDirectory()) return 'a directory';
  return 'something else';
}
