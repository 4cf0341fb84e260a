import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonLines, tempConfig, vantage } from '../helpers/agent-process.js';
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
