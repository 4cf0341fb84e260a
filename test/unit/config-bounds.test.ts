import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { builtinRegistry } from '../../src/checks/registry.js';
import { ConfigError, formatDiagnostic } from '../../src/config/diagnostics.js';
import { parseConfig, parseConfigPaced } from '../../src/config/load.js';
import { runNow } from '../../src/config/pace.js';
import { readConfigText, withinDeadline } from '../../src/config/read-config.js';
import { YamlSource } from '../../src/config/yaml-source.js';
import { tempConfig } from '../helpers/agent-process.js';

// Issue 12, defects 5 and 9 at the unit level: bounded reads, parsing in steps.

const registry = builtinRegistry();
const dirs: Array<{ remove(): void }> = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});

function tempDir() {
  const cfg = tempConfig('');
  dirs.push(cfg);
  return cfg;
}

async function readProblem(file: string): Promise<string> {
  const err: unknown = await readConfigText(file).then(
    () => new Error('read succeeded'),
    (e: unknown) => e,
  );
  if (err instanceof ConfigError) return err.diagnostics.map(formatDiagnostic).join('\n');
  throw err;
}

const notRegular = (file: string, what: string) =>
  `${file}:1:1: the config must be a regular file, and this is ${what}: point -c at the YAML file (a symlink to a ` +
  'regular file is fine)';

describe('reading the config file is bounded', () => {
  it.each([
    ['a FIFO', 'a FIFO (named pipe)', (file: string) => execFileSync('mkfifo', [file])],
    ['a symlink to /dev/zero', 'a character device', (file: string) => symlinkSync('/dev/zero', file)],
    ['a directory', 'a directory', (file: string) => mkdirSync(file)],
  ])('refuses %s at 1:1 without reading from it', async (_name, what, make) => {
    const file = join(tempDir().dir, 'other.yaml');
    make(file);
    expect(await readProblem(file)).toBe(notRegular(file, what));
  });

  it('reads a file through a symlink (a Kubernetes ConfigMap mount)', async () => {
    const { dir, file } = tempDir();
    writeFileSync(file, 'targets: []\n');
    const link = join(dir, 'link.yaml');
    symlinkSync(file, link);
    expect(await readConfigText(link)).toBe('targets: []\n');
  });

  it('refuses a file over 16 MiB and reads one of exactly 16 MiB', async () => {
    const { file } = tempDir();
    truncateSync(file, 16 * 1024 * 1024 + 1);
    expect(await readProblem(file)).toBe(`${file}:1:1: the config file is larger than 16 MiB, the most accepted`);
    truncateSync(file, 16 * 1024 * 1024);
    expect((await readConfigText(file)).length).toBe(16 * 1024 * 1024);
  });

  it('keeps the old message for a missing file', async () => {
    expect(await readProblem('/nonexistent/v.yaml')).toBe(
      '/nonexistent/v.yaml:1:1: cannot read the config file (ENOENT)',
    );
  });

  it('gives up on a read that does not return in time, and at once when aborted', async () => {
    const never = new Promise<string>(() => undefined);
    await expect(withinDeadline(never, 'v.yaml', { timeoutMs: 50 })).rejects.toThrow(
      'v.yaml:1:1: reading the config file took longer than 0.05s (a hung filesystem?); nothing was changed',
    );
    const controller = new AbortController();
    const waiting = withinDeadline(never, 'v.yaml', { timeoutMs: 60_000, signal: controller.signal });
    controller.abort(new Error('stopping'));
    await expect(waiting).rejects.toThrow('stopping');
  });
});

describe('parsing in steps', () => {
  function targets(n: number, extra = ''): string {
    const lines = ['agent: {id: a}', 'targets:'];
    for (let i = 0; i < n; i++) {
      if (i % 37 === 0) lines.push(`  # group ${i}`);
      lines.push(`  - name: t${i}`, '    host: 127.0.0.1', `    labels: {n: "${i}"}`, '    checks:');
      lines.push(`      - {kind: tcp, port: ${1000 + i}}`);
    }
    return `${lines.join('\n')}\n${extra}`;
  }

  /** Values, errors and every node's position as the `yaml` package gives them in one go. */
  function reference(text: string) {
    const doc = parseDocument(text, { lineCounter: new LineCounter(), prettyErrors: false, uniqueKeys: true });
    return { errors: doc.errors.map((e) => [e.code, e.pos[0]]), value: doc.toJS({ maxAliasCount: -1 }) as unknown };
  }

  it.each([
    ['a large file', targets(450)],
    ['a syntax error in a later part of the targets', targets(450).replace('  - name: t333\n', '   - name: t333\n')],
    [
      'a duplicate key in a later part',
      targets(450).replace('    labels: {n: "401"}\n', '    labels: {}\n    labels: {}\n'),
    ],
    ['an anchor used across parts', targets(450).replace('{n: "3"}', '&l {n: "3"}').replace('{n: "420"}', '*l')],
    ['a key after the targets', targets(450, 'listen: "127.0.0.1:1"\n')],
    ['CRLF line ends', targets(450).replace(/\n/g, '\r\n')],
  ])('gives what one parse gives, positions included: %s', (_name, text) => {
    const ref = reference(text);
    const source = runNow(YamlSource.parseSteps('cfg.yaml', text));
    expect(source.doc.errors.map((e) => [e.code, e.pos[0]])).toEqual(ref.errors);
    if (ref.errors.length === 0) expect(source.doc.toJS({ maxAliasCount: -1 })).toEqual(ref.value);
    // A node in the last part is located where the file has it.
    const at = text.indexOf('name: t449') + 'name: '.length;
    expect(source.diagnostic(['targets', 449, 'name'], 'x')).toEqual(source.at(at, 'x'));
  });

  it('gives the event loop turns while a large config is validated, and stops when aborted', async () => {
    const text = targets(300);
    let turns = 0;
    let counting = true;
    const count = (): void => {
      turns++;
      if (counting) setImmediate(count);
    };
    setImmediate(count);
    const config = await parseConfigPaced('cfg.yaml', text, { registry, env: {} }, { budgetMs: 0 });
    counting = false;
    expect(config.checks).toHaveLength(300);
    expect(turns).toBeGreaterThan(300);

    const controller = new AbortController();
    const parsing = parseConfigPaced(
      'cfg.yaml',
      text,
      { registry, env: {} },
      { budgetMs: 0, signal: controller.signal },
    );
    controller.abort(new Error('stopping'));
    await expect(parsing).rejects.toThrow('stopping');
  });

  it('the shipped configs parse as before', () => {
    for (const file of ['config/vantage.yaml', 'config/example.yaml']) {
      const text = readFileSync(file, 'utf8');
      const env = { VANTAGE_REGION: 'r' };
      const ref = reference(text);
      expect(ref.errors).toEqual([]);
      expect(parseConfig(file, text, { registry, env, hostname: 'h' }).checks.length).toBeGreaterThan(0);
    }
  });
});
