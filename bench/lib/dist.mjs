// @ts-check
// Where the benchmarks find the compiled agent (dist/, built by `npm run build`) and the repo.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** VANTAGE_DIST points the benchmarks at another build (a private one while dist/ is rebuilt by others). */
export const DIST = process.env.VANTAGE_DIST ?? join(ROOT, 'dist');
export const VANTAGE_BIN = join(DIST, 'bin', 'vantage.cjs');

/**
 * Imports a module of the compiled agent (`dist/<rel>`), with a hint when the build is missing.
 * The result is deliberately untyped (any): dist/ is emitted without declarations
 * (tsconfig.build.json), and pointing the type-check at src/ would tie bench/ to a tree being
 * refactored. Callers destructure what they use; the benchmarks themselves exercise those paths.
 * @param {string} rel path below dist/, e.g. 'net/icmp/icmp-engine.js'
 * @returns {Promise<any>}
 */
export async function loadDist(rel) {
  const file = join(DIST, rel);
  if (!existsSync(file))
    throw new Error(`${file} is missing: run \`npm run build\` first (or \`npm run bench\`, which builds)`);
  return import(pathToFileURL(file).href);
}

/**
 * The newest modification time (ms) of the files below `dir` that `keep` accepts.
 * @param {string} dir
 * @param {(name: string) => boolean} [keep]
 * @returns {number}
 */
export function newestMtimeMs(dir, keep = () => true) {
  let max = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) max = Math.max(max, newestMtimeMs(p, keep));
    else if (keep(entry.name)) max = Math.max(max, statSync(p).mtimeMs);
  }
  return max;
}

let staleChecked = false;
/** Warns (once) when a file in src/ is newer than dist/: numbers would be for old code. */
export function warnIfStale() {
  if (staleChecked) return;
  staleChecked = true;
  try {
    if (!existsSync(VANTAGE_BIN)) return;
    if (newestMtimeMs(join(ROOT, 'src')) > newestMtimeMs(DIST))
      process.stderr.write(
        'warning: src/ is newer than dist/; run `npm run build` (npm run bench does) for current numbers\n',
      );
  } catch {
    // Only a hint.
  }
}
