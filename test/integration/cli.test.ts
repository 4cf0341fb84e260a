import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, jsonLines, tempConfig, vantage } from '../helpers/agent-process.js';
import type { CliResult } from '../helpers/agent-process.js';
import { openListener, refusedListener } from '../helpers/tcp-servers.js';
import type { Listener } from '../helpers/tcp-servers.js';

let open: Listener;
let closed: Listener;
let closedPort: number;
beforeAll(async () => {
  open = await openListener();
  closed = await refusedListener();
  closedPort = closed.port;
});
afterAll(async () => {
  await Promise.all([open?.close(), closed?.close()]);
});

describe('vantage once', () => {
  it('prints one record per check and exits 1 when one failed', async () => {
    const cfg = tempConfig(`
targets:
  - name: up
    host: 127.0.0.1
    checks: [{kind: tcp, port: ${open.port}}]
  - name: down
    host: 127.0.0.1
    checks: [{kind: tcp, port: ${closedPort}}]
`);
    try {
      const { code, stdout } = await vantage(['once', '-c', cfg.file, '--json']);
      expect(code).toBe(1);
      const records = jsonLines<Record<string, unknown>>(stdout);
      expect(records).toHaveLength(2);
      const up = records.find((r) => r.target === 'up');
      const down = records.find((r) => r.target === 'down');
      expect(up).toMatchObject({
        check: 'up-tcp',
        kind: 'tcp',
        ip: '127.0.0.1',
        ok: true,
        error: null,
        port: open.port,
      });
      expect(up?.connectMs).toEqual(expect.any(Number));
      expect(Date.parse(String(up?.startedAt))).not.toBeNaN();
      expect(down).toMatchObject({ ok: false, port: closedPort, error: { code: 'TCP_REFUSED', phase: 'connect' } });
      for (const r of records)
        expect(Object.keys(r)).toEqual(
          expect.arrayContaining(['check', 'kind', 'target', 'ok', 'error', 'startedAt', 'durationMs', 'phasesMs']),
        );
    } finally {
      cfg.remove();
    }
  });

  it('exits 0 when all checks pass, with a readable line per result', async () => {
    const cfg = tempConfig(`targets: [{name: up, host: 127.0.0.1, checks: [{kind: tcp, port: ${open.port}}]}]\n`);
    try {
      const { code, stdout } = await vantage(['once', '-c', cfg.file]);
      expect(code).toBe(0);
      expect(stdout).toMatch(/^OK {3}up-tcp 127\.0\.0\.1 resolve=[\d.]+ms connect=[\d.]+ms total=[\d.]+ms\n$/);
    } finally {
      cfg.remove();
    }
  });

  it('exits 2 on a bad config', async () => {
    const { code, stderr } = await vantage(['once', '-c', '/nonexistent/vantage.yaml']);
    expect(code).toBe(2);
    expect(stderr).toContain('/nonexistent/vantage.yaml:1:1: cannot read the config file (ENOENT)');
  });
});

describe('vantage validate', () => {
  it('prints every mistake as FILE:LINE:COL and exits 2', async () => {
    const cfg = tempConfig(`agent:
  region: eu
  colour: blue
targets:
  - name: web
    host: 127.0.0.1
    checks:
      - kind: tcp
        port: 70000
        interval: 10s
        timeout: 10s
`);
    try {
      const { code, stderr } = await vantage(['validate', '-c', cfg.file]);
      expect(code).toBe(2);
      expect(stderr.trim().split('\n')).toEqual([
        `${cfg.file}:3:3: agent.colour: unknown key "colour"`,
        `${cfg.file}:9:15: targets[0].checks[0].port: Too big: expected number to be <=65535`,
        `${cfg.file}:11:18: targets[0].checks[0].timeout: timeout 10s must be shorter than the interval (10s), or ` +
          `runs would overlap`,
      ]);
    } finally {
      cfg.remove();
    }
  });

  it('checks the web config file the config names, or --web.config.file, and names its problems', async () => {
    const cfg = tempConfig('targets: [{name: up, host: 127.0.0.1, checks: [{kind: tcp, port: 80}]}]\n');
    const web = join(cfg.dir, 'web.yml');
    try {
      writeFileSync(web, 'basic_auth_users:\n  alice: not-a-bcrypt-hash\n');
      cfg.write(
        `web: {config_file: ${web}}\ntargets: [{name: up, host: 127.0.0.1, checks: [{kind: tcp, port: 80}]}]\n`,
      );
      const named = await vantage(['validate', '-c', cfg.file]);
      expect(named.code).toBe(2);
      expect(named.stderr.trim()).toMatch(new RegExp(`^${web}:2:10: basic_auth_users.alice: not a bcrypt hash`));

      writeFileSync(web, 'http_server_config:\n  headers:\n    X-Frame-Options: deny\n');
      const good = await vantage(['validate', '-c', cfg.file]);
      expect(good.code).toBe(0);
      expect(good.stdout).toContain(`${web}: ok`);

      cfg.write('targets: [{name: up, host: 127.0.0.1, checks: [{kind: tcp, port: 80}]}]\n');
      const flag = await vantage(['validate', '-c', cfg.file, '--web.config.file', join(cfg.dir, 'missing.yml')]);
      expect(flag.code).toBe(2);
      expect(flag.stderr).toContain('missing.yml');
    } finally {
      cfg.remove();
    }
  });

  it('accepts the shipped default and example configs', async () => {
    for (const file of ['config/vantage.yaml', 'config/example.yaml']) {
      const { code, stdout } = await vantage(['validate', '-c', file], { VANTAGE_REGION: 'eu-west-1' });
      expect(code, file).toBe(0);
      expect(stdout).toMatch(/ok \(\d+ targets, \d+ checks\)/);
    }
  });
});

describe('vantage probe', () => {
  it('runs one ad-hoc tcp check with settings named as in the YAML', async () => {
    const { code, stdout } = await vantage([
      'probe',
      'tcp',
      `127.0.0.1:${open.port}`,
      '--timeout',
      '2s',
      '--ips',
      '1',
      '--json',
    ]);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ kind: 'tcp', ip: '127.0.0.1', ok: true, port: open.port });
  });

  it.each([
    [['probe', 'tcp', '127.0.0.1:1', '--prot', '2'], /unknown setting --prot/],
    [['probe', 'tcp', '127.0.0.1'], /needs a port/],
    [['probe', 'smtp', 'x'], /unknown kind "smtp"/],
    [['probe', 'tcp', '127.0.0.1:1', '--timeout', '5'], /--timeout: Invalid input: expected string, received number/],
    [['once'], /missing -c FILE/],
    [['run', '-c', 'x.yaml', '--listen', 'nowhere'], /--listen "nowhere" is not HOST:PORT/],
    [['frobnicate'], /unknown command "frobnicate"/],
    // Issue 12, defect 12: an unknown option last on the line was reported as "needs a value".
    [
      ['once', '-c', 'x.yaml', '--bogus'],
      /^vantage once: unknown option --bogus \(known: -c\/--config, --log-level, --json, --help\)$/m,
    ],
    [
      ['run', '-c', 'x.yaml', '--bogus'],
      /unknown option --bogus \(known: -c\/--config, --listen, .*--no-watch, --help\)/,
    ],
    [
      ['validate', '--bogus', '-c', 'x.yaml'],
      /unknown option --bogus \(known: -c\/--config, --web.config.file, --help\)/,
    ],
    [['diagnose', 'x', '--json', '--bogus'], /unknown option --bogus \(known: --resolver, .*--json, --help\)/],
    [
      ['probe', 'tcp', '127.0.0.1:1', '--bogus'],
      /unknown setting --bogus \(known: --timeout, --port, .*--json, --log-level, --help\)/,
    ],
    [['once', '-c'], /option --config needs a value/],
  ])('refuses %j with exit 2', async (args, pattern) => {
    const { code, stderr } = await vantage(args);
    expect(code).toBe(2);
    expect(stderr).toMatch(pattern);
  });
});

describe('help and version', () => {
  it('prints the package version', async () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    expect((await vantage(['--version'])).stdout.trim()).toBe(pkg.version);
  });

  it.each([[['--help']], [['run', '--help']], [['once', '--help']], [['validate', '--help']], [['probe', '--help']]])(
    '%j prints usage and exits 0',
    async (args) => {
      const { code, stdout } = await vantage(args);
      expect(code).toBe(0);
      expect(stdout).toMatch(/^Usage: vantage/);
    },
  );
});

/**
 * Runs the built CLI with its stdout into a real pipe read by `reader` (a shell command), e.g. the
 * issue's `| (sleep 3; wc -l)`. Resolves with what the reader passed on and the CLI's own exit code.
 */
async function throughPipe(args: string[], reader: string, timeoutMs = 15_000): Promise<CliResult> {
  const script = `"$@" | ${reader}; echo "vantage-exit=\${PIPESTATUS[0]}" >&2`;
  const child = spawn('bash', ['-c', script, 'pipe', process.execPath, BIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += String(d)));
  child.stderr.on('data', (d: Buffer) => (stderr += String(d)));
  const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), timeoutMs);
  try {
    await once(child, 'close');
  } finally {
    clearTimeout(timer);
  }
  const exit = /vantage-exit=(\d+)\n$/.exec(stderr);
  if (!exit) throw new Error(`no exit code (killed after ${timeoutMs} ms?); stderr:\n${stderr}`);
  return { code: Number(exit[1]), stdout, stderr: stderr.slice(0, exit.index) };
}

/** A DNS server over TCP answering every query with `count` A records (10.x.y.z): one big record. */
async function bigAnswerDns(count: number): Promise<{ port: number; server: Server }> {
  const answer = (query: Buffer): Buffer => {
    const head = Buffer.from(query.subarray(0, 12 + query.subarray(12).indexOf(0) + 5));
    head[2] = 0x81;
    head[3] = 0x80;
    head.writeUInt16BE(count, 6);
    head.writeUInt16BE(0, 8);
    head.writeUInt16BE(0, 10);
    const records = Array.from({ length: count }, (_, i) =>
      Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, (i >> 16) & 255, (i >> 8) & 255, i & 255]),
    );
    const message = Buffer.concat([head, ...records]);
    const length = Buffer.alloc(2);
    length.writeUInt16BE(message.length);
    return Buffer.concat([length, message]);
  };
  const server = createServer((socket) => {
    let buffered = Buffer.alloc(0);
    socket.on('error', () => undefined);
    socket.on('data', (d: Buffer) => {
      buffered = Buffer.concat([buffered, d]);
      if (buffered.length < 2 || buffered.length < 2 + buffered.readUInt16BE(0)) return;
      socket.write(answer(buffered.subarray(2, 2 + buffered.readUInt16BE(0))));
      buffered = Buffer.alloc(0);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as { port: number }).port, server };
}

// Issue 12, defect 4: the CLI exited while stdout still held output for a slow reader (everything
// past the pipe's 64 KiB was lost, exit code 0), and a reader that went away crashed it with a stack.
describe('output through a slow pipe', () => {
  const checks = 400;
  let cfg: ReturnType<typeof tempConfig>;
  beforeAll(() => {
    const targets = Array.from(
      { length: checks },
      (_, i) => `  - {name: t${i}, host: 127.0.0.1, checks: [{kind: tcp, port: ${open.port}}]}`,
    );
    cfg = tempConfig(`targets:\n${targets.join('\n')}\n`);
  });
  afterAll(() => cfg?.remove());

  // The reader takes the first byte, then waits 3 s: long after the command is done, however slowly
  // Node started (the old exit came 500 ms after the command, with the pipe's 64 KiB full).
  const slowReader = '(head -c 1; sleep 3; cat)';

  it('once --json: every one of 400 records (about 120 KB) reaches a reader that pauses 3 s', async () => {
    const { code, stdout, stderr } = await throughPipe(['once', '-c', cfg.file, '--json'], slowReader);
    expect(stderr).toBe('');
    const records = jsonLines<{ target: string; ok: boolean }>(stdout);
    expect(records).toHaveLength(checks);
    expect(new Set(records.map((r) => r.target)).size).toBe(checks);
    expect(records.every((r) => r.ok)).toBe(true);
    expect(code).toBe(0);
  });

  it('probe --json: a 200 KB record (3000 DNS answers) reaches a reader that pauses 3 s', async () => {
    const dns = await bigAnswerDns(3_000);
    try {
      const args = ['probe', 'dns', 'big.test', '--resolver', `tcp://127.0.0.1:${dns.port}`, '--json'];
      const { code, stdout } = await throughPipe(args, slowReader);
      expect(stdout.length).toBeGreaterThan(150_000);
      const [record] = jsonLines<{ ok: boolean; answers: unknown[] }>(stdout);
      expect(record?.answers).toHaveLength(3_000);
      expect(code).toBe(0);
    } finally {
      dns.server.close();
    }
  });

  it('a reader that goes away ends the command quietly with 141 (as SIGPIPE would), not a stack', async () => {
    const { code, stderr } = await throughPipe(['once', '-c', cfg.file, '--json'], 'head -c 100 >/dev/null');
    expect(stderr).toBe('');
    expect(code).toBe(141);
  });
});
