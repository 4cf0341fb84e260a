#!/usr/bin/env node
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { REGEXP_ENGINE_FLAGS } from '../settings/regexp-engine-flags.cjs';
import { requireWithCodeCache } from './code-cache.cjs';

// A CommonJS entry point on purpose. getaddrinfo runs on the libuv pool (4 threads by default), so
// concurrent system-resolver lookups would queue and their timings include the wait. The pool is
// sized from UV_THREADPOOL_SIZE when first used, and Node's ESM loader already uses it to read an
// ESM entry file: only a CommonJS entry runs early enough to set it. The agent gets 64 (thousands
// of checks, a hanging lookup holds its thread until glibc gives up); a one-shot command, with a
// handful of lookups, 8: every thread is warmed before the first timed lookup (net/system-resolver.ts),
// and a timed lookup was faster in a smaller pool (`probe dns NAME` of a hosts-file name after 16 warm-up
// lookups: median 0.70 ms with 8 threads, 1.04 with 16, 1.2 with 64).
process.env.UV_THREADPOOL_SIZE ??= process.argv[2] === 'run' ? '64' : '8';

/**
 * Sets a V8 flag unless node's command line names it (`--name`, `--no-name`, `--name=...`, with
 * dashes or underscores): theirs wins. NODE_OPTIONS cannot carry these flags (node refuses V8 flags
 * it does not list there and exits).
 */
function defaultV8Flag(name: string, flag: string): void {
  const named = new RegExp(`^--(no-)?${name}(=|$)`);
  if (!process.execArgv.some((arg) => named.test(arg.replaceAll('_', '-')))) setFlagsFromString(flag);
}

// V8 lets the old generation grow to two or three times its live size before a full collection:
// an agent of 12,000 checks with about 150 MB live sat at 560-640 MB RSS. An agent's memory is a
// budget (it shares a node with what it watches), so a full collection starts once the heap is 20 %
// past what the last one left; the marking runs concurrently, and CPU per run did not measurably
// change (bench/scale.mjs).
defaultV8Flag('heap-growing-percent', '--heap-growing-percent=20');
// V8 moves an allocation site's objects straight to the old generation once enough of them outlived
// a scavenge; the agent's per-run objects that did (a run in flight at a scavenge) are mostly dead
// within milliseconds, and once tenured filled the old generation with garbage that only a full
// collection frees (with the 20 % growth above, often). Interleaved 2-minute runs of bench/scale.mjs,
// Node 22: start lag p99 3.95-5.31 ms against 5.58-5.67, the same CPU within the noise.
defaultV8Flag('allocation-site-pretenuring', '--no-allocation-site-pretenuring');

for (const flag of REGEXP_ENGINE_FLAGS) setFlagsFromString(flag);

/** Set by scripts/bundle.mjs: the CLI bundle, relative to this file. A tsc-only build has none. */
declare const CLI_BUNDLE: string | undefined;

type Cli = typeof import('../cli.js');

/** Where V8's code of each command is kept between runs; VANTAGE_CODE_CACHE='' turns it off. */
function codeCacheDir(): string {
  const uid = process.getuid?.() ?? 0;
  return process.env.VANTAGE_CODE_CACHE ?? join(process.env.XDG_CACHE_HOME ?? tmpdir(), `vantage-code-cache-${uid}`);
}

/** How long an agent runs before its code cache is written: by then it has started and served. */
const AGENT_CACHE_AFTER_MS = 2_000;

function loadBundle(bundle: string): Cli {
  const command = process.argv[2] ?? '';
  const named = /^[a-z]+$/.test(command);
  // The bundle's exports are src/cli.ts's (scripts/bundle.mjs builds it from there).
  return requireWithCodeCache(join(__dirname, bundle), {
    name: named ? command : 'other',
    dir: codeCacheDir(),
    ...(command === 'run' ? { saveAfterMs: AGENT_CACHE_AFTER_MS } : {}),
    // A mistyped command gets no cache of its own.
    worthSaving: (cli) => !named || (cli as Cli).isCommand(command),
  }) as Cli;
}

const cli: Promise<Cli> =
  typeof CLI_BUNDLE === 'string' ? Promise.resolve(loadBundle(CLI_BUNDLE)) : import('../cli.js');
void cli.then(({ runCli }) => runCli(process.argv.slice(2)));
