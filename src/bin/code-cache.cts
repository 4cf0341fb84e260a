import { isAscii } from 'node:buffer';
import { lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire, wrap } from 'node:module';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';

// Why not Node's own compile cache (module.enableCompileCache, Node >= 22.1): it keeps V8's code
// as it stands right after compiling, before the module runs, so a fresh process still compiles
// every function the command calls (for the CLI bundle, a 331 kB cache of a 1.4 MB file). V8's
// cache taken after the command has run holds those functions too; Node 20 has no cache at all.

/** The signature Node's CommonJS wrapper gives a module's code (module.wrap). */
type ModuleFunction = (
  exports: object,
  require: NodeJS.Require,
  module: { exports: object },
  filename: string,
  dirname: string,
) => void;

/** Which cache a load uses, where, and when it is written. */
export interface CodeCacheOptions {
  /** The cache's name (lowercase letters: a command's name); one cache per name and Node. */
  name: string;
  /** The directory; '' for none. Used only if it is this user's and no one else can write to it. */
  dir: string;
  /** Writes the cache this long after the load if the process still runs (a long-lived agent). */
  saveAfterMs?: number;
  /** Asked before writing, with the module's exports (e.g. whether the name is a real command). */
  worthSaving?: (moduleExports: unknown) => boolean;
}

/**
 * Requires the CommonJS file `file` (the CLI bundle) with V8's code cache of an earlier load of
 * the same name, and writes that cache when there was none or V8 refused it (another Node, other
 * V8 flags): at exit, or after `saveAfterMs`, whichever comes first. A cache is code that will
 * run, hence the directory's checks; any cache failure only costs the speed-up.
 */
export function requireWithCodeCache(file: string, options: CodeCacheOptions): unknown {
  const stat = statSync(file);
  // One cache per name and Node (older builds' are dropped). V8 checks a cache against the
  // source's length only: the build's size, mtime and inode name it.
  const prefix = `${options.name}-${process.version}-${process.arch}-`;
  const cacheFile =
    /^[a-z]+$/.test(options.name) && options.dir !== '' && ownDirectory(options.dir)
      ? join(options.dir, `${prefix}${stat.size}-${Math.trunc(stat.mtimeMs)}-${stat.ino}.bin`)
      : undefined;
  const cachedData = cacheFile === undefined ? undefined : readIfPresent(cacheFile);
  const script = new Script(wrap(readSource(file)), { filename: file, cachedData });
  const compiled: unknown = script.runInThisContext();
  if (typeof compiled !== 'function') throw new TypeError(`${file} did not compile to a module function`);
  const module = { exports: {} };
  // A function from module.wrap's source is always a ModuleFunction.
  (compiled as ModuleFunction).call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
  if (cacheFile !== undefined && (cachedData === undefined || script.cachedDataRejected === true)) {
    let saved = false;
    const save = (): void => {
      if (saved) return;
      saved = true;
      if (options.worthSaving?.(module.exports) ?? true) writeCache(cacheFile, prefix, script);
    };
    process.once('exit', save);
    if (options.saveAfterMs !== undefined) setTimeout(save, options.saveAfterMs).unref();
  }
  return module.exports;
}

/**
 * The file's text. The bundle is ASCII (scripts/bundle.mjs), and ASCII read as Latin-1 is the same
 * string without UTF-8's decoding (Node 22, the then 1.4 MB bundle: 10 ms instead of 14).
 */
function readSource(file: string): string {
  const bytes = readFileSync(file);
  return bytes.toString(isAscii(bytes) ? 'latin1' : 'utf8');
}

/** The directory, made if missing, is a real directory (not a link), this user's, and writable by no one else. */
function ownDirectory(dir: string): boolean {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // Not followed: a link another user left in /tmp could point at a directory of ours elsewhere.
    const st = lstatSync(dir);
    return st.isDirectory() && st.uid === process.getuid?.() && (st.mode & 0o022) === 0;
  } catch {
    return false;
  }
}

function readIfPresent(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch {
    return undefined;
  }
}

/** Writes the cache whole (a rename, so a concurrent start reads all or nothing) and drops the name's older ones. */
function writeCache(cacheFile: string, name: string, script: Script): void {
  try {
    const partial = `${cacheFile}.${process.pid}.tmp`;
    writeFileSync(partial, script.createCachedData(), { mode: 0o600 });
    renameSync(partial, cacheFile);
    const dir = dirname(cacheFile);
    for (const other of readdirSync(dir))
      if (other.startsWith(name) && other.endsWith('.bin') && join(dir, other) !== cacheFile)
        rmSync(join(dir, other), { force: true });
  } catch {
    // Best effort: the next start compiles as this one did.
  }
}
