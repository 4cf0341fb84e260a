// @ts-check
// Every benchmark file also runs alone (`node bench/icmp.mjs`): the same output as in run.mjs.
import { pathToFileURL } from 'node:url';
import { warnIfStale } from './dist.mjs';
import { errorText } from './errors.mjs';
import { installExitCleanup, killAllChildren } from './proc.mjs';
import { printResult } from './table.mjs';

/** @import { BenchResult } from './table.mjs' */

/**
 * Runs a benchmark module's `run()` when the file is executed directly (`node bench/X.mjs`).
 * @param {string} metaUrl the module's import.meta.url
 * @param {() => Promise<BenchResult<unknown>>} run
 */
export async function runStandalone(metaUrl, run) {
  if (!process.argv[1] || pathToFileURL(process.argv[1]).href !== metaUrl) return;
  warnIfStale();
  installExitCleanup();
  try {
    printResult(await run());
  } catch (err) {
    process.stderr.write(`benchmark failed: ${errorText(err)}\n`);
    process.exitCode = 1;
  } finally {
    await killAllChildren();
  }
}
