import { isAscii } from 'node:buffer';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, tempConfig, vantage } from '../helpers/agent-process.js';
import { openListener } from '../helpers/tcp-servers.js';
import type { Listener } from '../helpers/tcp-servers.js';

// `npm run build` bundles the CLI (scripts/bundle.mjs) so a start reads one file of ours; what a
// command does not use must still not load. A preloaded script reports, at exit, the files of
// dist/ required and read (the entry reads the bundle itself to compile it with its code cache),
// and the built-ins the process loaded.
const DIST = dirname(dirname(BIN));
const REPORT = `const fs = require('node:fs');
const read = [];
const readFileSync = fs.readFileSync;
fs.readFileSync = function (file, ...rest) {
  if (typeof file === 'string' && file.startsWith(${JSON.stringify(DIST)})) read.push(file);
  return readFileSync.call(this, file, ...rest);
};
process.on('exit', () => {
  const files = Object.keys(require.cache).filter((f) => f.startsWith(${JSON.stringify(DIST)}));
  const builtins = process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice(13));
  fs.writeSync(2, 'LOADED ' + JSON.stringify({ files, read, builtins }) + '\\n');
});`;

interface Loaded {
  files: string[];
  read: string[];
  builtins: string[];
}

let target: Listener;
let preload: ReturnType<typeof tempConfig>;
beforeAll(async () => {
  target = await openListener();
  preload = tempConfig('');
  writeFileSync(join(preload.dir, 'report.cjs'), REPORT);
});
afterAll(async () => {
  await target?.close();
  preload?.remove();
});

async function loaded(args: string[]): Promise<{ code: number | null; stdout: string; loaded: Loaded }> {
  const r = await vantage(args, { NODE_OPTIONS: `--require ${join(preload.dir, 'report.cjs')}` });
  const line = r.stderr.split('\n').find((l) => l.startsWith('LOADED '));
  if (!line) throw new Error(`no LOADED line: exit ${r.code}\n${r.stderr}`);
  return { code: r.code, stdout: r.stdout, loaded: JSON.parse(line.slice('LOADED '.length)) as Loaded };
}

describe('the bundled CLI', () => {
  it('runs `probe tcp` from the entry and the one bundle, without HTTP, TLS or HTTP/2', async () => {
    const r = await loaded(['probe', 'tcp', `127.0.0.1:${target.port}`, '--json']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('"ok":true');
    // The entry compiles the bundle itself (with its code cache, src/bin/code-cache.cts), so Node's
    // module loader sees the entry alone, and the files of dist/ read are the entry and the bundle.
    expect(r.loaded.files).toEqual([join(DIST, 'bin', 'vantage.cjs')]);
    expect(r.loaded.read).toEqual([join(DIST, 'bin', 'vantage.cjs'), join(DIST, 'cli.cjs')]);
    for (const unused of ['http', 'https', 'tls', 'http2', 'zlib'])
      expect(r.loaded.builtins, unused).not.toContain(unused);
  });

  it('is ASCII, so the entry reads it without decoding UTF-8 and V8 keeps it one byte per character', () => {
    const bundle = readFileSync(join(DIST, 'cli.cjs'));
    const at = bundle.findIndex((byte) => byte > 0x7f);
    expect(at === -1 ? 'all ASCII' : bundle.subarray(Math.max(0, at - 60), at + 20).toString('utf8')).toBe('all ASCII');
    expect(isAscii(bundle)).toBe(true);
  });

  it('finds package.json from the bundle, as src/version.ts does from its own file', async () => {
    const pkg = JSON.parse(readFileSync(join(dirname(DIST), 'package.json'), 'utf8')) as { version: string };
    const r = await loaded(['--version']);
    expect(r.stdout.trim()).toBe(pkg.version);
  });
});
