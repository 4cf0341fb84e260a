// @ts-check
// Start-up (issue 20), run by `npm run build` after tsc: bundles src/cli.ts, every module it imports
// and their dependencies into one CommonJS file, dist/cli.cjs, and rewrites dist/bin/vantage.cjs to
// load it. Node then reads and compiles one file (with V8's code cache of the command's last run,
// src/bin/code-cache.cts) instead of resolving ~300, and esbuild drops what nothing uses. CommonJS
// rather than an ES module: the bundle's `require`s of built-ins stay inside the module that uses
// them, so a command loads only the built-ins it needs (an ES module hoists every import, and
// node:http's ESM facade alone loads undici on Node 22); modules reached through `import()` (the
// commands, the DNS/HTTPS clients) still run on first use. The rest of dist/ stays as tsc wrote
// it, for the benchmarks that import single modules and for a tsc-only build, whose
// dist/bin/vantage.cjs loads dist/cli.js.
import { readFile, writeFile } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, transform } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SRC = resolve(ROOT, 'src');
const DIST = resolve(ROOT, 'dist');

/** Defined by the bundle's banner, outside any module (src/net/icmp/native.ts has a `require` of its own). */
const MODULE_URL = 'vantageModuleUrl';

/**
 * A module that finds files next to itself (the ICMP addon, package.json, bcryptjs for the bcrypt
 * worker) does so from `import.meta.url`. The bundle gives each such module the URL its own file
 * has in dist/, so its relative paths mean what they did.
 * @type {import('esbuild').Plugin}
 */
const ownImportMetaUrl = {
  name: 'own-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      if (!args.path.startsWith(SRC) || !text.includes('import.meta.url')) return undefined;
      const inDist = relative(SRC, args.path).replace(/\.ts$/, '.js');
      return { contents: text.replaceAll('import.meta.url', `${MODULE_URL}(${JSON.stringify(inDist)})`), loader: 'ts' };
    });
  },
};

/**
 * prom-client requires @opentelemetry/api at load time (lib/metrics/processCpuTotal.js) but reads it
 * only for exemplars, which Vantage never enables: the bundle carries a stand-in that says so if
 * that ever changes, not 63 kB evaluated at every start.
 * @type {import('esbuild').Plugin}
 */
const noOpenTelemetry = {
  name: 'no-opentelemetry',
  setup(b) {
    b.onResolve({ filter: /^@opentelemetry\/api$/ }, (args) => ({ path: args.path, namespace: 'no-opentelemetry' }));
    b.onLoad({ filter: /.*/, namespace: 'no-opentelemetry' }, () => ({
      contents: `const why = ': not bundled (scripts/bundle.mjs: no prom-client exemplars)';
module.exports = new Proxy({}, { get(_, key) { throw new Error('@opentelemetry/api.' + String(key) + why); } });`,
      loader: 'js',
    }));
  },
};

/**
 * prom-client's index requires its Pushgateway client, which loads node:https (and with it
 * node:tls, 10 ms of every `vantage run` start on a loaded machine) whether or not anything pushes;
 * Vantage is scraped and never pushes. As for OpenTelemetry, the stand-in says so if that changes.
 * @type {import('esbuild').Plugin}
 */
const noPushgateway = {
  name: 'no-pushgateway',
  setup(b) {
    b.onResolve({ filter: /^\.\/lib\/pushgateway$/ }, (args) =>
      args.importer.includes('/node_modules/prom-client/')
        ? { path: args.path, namespace: 'no-pushgateway' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'no-pushgateway' }, () => ({
      contents: `module.exports = class Pushgateway {
  constructor() { throw new Error('prom-client Pushgateway: not bundled (scripts/bundle.mjs: Vantage is scraped)'); }
};`,
      loader: 'js',
    }));
  },
};

/**
 * Leaves the bundle all ASCII. esbuild escapes what is not ASCII in strings and plain template
 * literals (its default charset) but writes comments, regular-expression literals and tagged
 * templates as they are: one em dash in a zod comment made V8 hold all of the then 1.4 MB bundle
 * as a two-byte string, decoded from UTF-8 at every start (Node 22, median of runs: reading it
 * 21 -> 10 ms, compiling it with its code cache 18-22 -> 9-13 ms). Each UTF-16 unit outside ASCII
 * becomes one '?', so columns, and the source map, stay; that is safe in comments only, so the
 * bundle with its comments dropped (esbuild again) must already be ASCII, or the build stops and
 * names what it found. The entry then reads the bundle as Latin-1.
 * @param {string} file
 */
async function asciiOnly(file) {
  const text = await readFile(file, 'utf8');
  if (!/[\u0080-\uffff]/.test(text)) return;
  const code = (await transform(text, { minifyWhitespace: true, legalComments: 'none' })).code;
  const inCode = /[\u0080-\uffff]/.exec(code);
  if (inCode)
    throw new Error(
      `${file}: "${code.slice(Math.max(0, inCode.index - 60), inCode.index + 20)}" holds a character outside ASCII ` +
        'outside a comment (a regular expression or a tagged template?): write it as an escape in the source',
    );
  await writeFile(file, text.replace(/[\u0080-\uffff]/g, '?'));
}

/** @type {import('esbuild').BuildOptions} */
const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: true,
  sourcesContent: false,
  logLevel: 'warning',
};

const bundleFile = resolve(DIST, 'cli.cjs');
await build({
  ...common,
  entryPoints: [resolve(SRC, 'cli.ts')],
  outfile: bundleFile,
  // The addon is loaded at run time from build/Release (src/net/icmp/native.ts). node-cron's ES
  // module finds its daemon from its own import.meta.url: it stays a package, required as CommonJS.
  external: ['*.node', 'node-cron'],
  banner: {
    js: `const ${MODULE_URL} = (inDist) =>
  require('node:url').pathToFileURL(require('node:path').join(__dirname, inDist)).href;`,
  },
  plugins: [ownImportMetaUrl, noOpenTelemetry, noPushgateway],
});
await asciiOnly(bundleFile);
await build({
  ...common,
  entryPoints: [resolve(SRC, 'bin', 'vantage.cts')],
  outfile: resolve(DIST, 'bin', 'vantage.cjs'),
  // The entry compiles the bundle itself (src/bin/code-cache.cts); its `import('../cli.js')`, for a
  // tsc-only build, is in a branch this constant makes dead, which esbuild drops unresolved.
  define: { CLI_BUNDLE: JSON.stringify('../cli.cjs') },
});
