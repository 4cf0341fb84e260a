import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentProcess, BIN, tempConfig } from '../helpers/agent-process.js';

// Issue 12 #2: PEM files the config names are checked when it is loaded, by every command, with
// the value's position; a bad one never crashes a command or the agent at check creation.

const CERT_FILE = new URL('../fixtures/pem/localhost.crt', import.meta.url).pathname;
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** Runs the built CLI, killed after 10 s whatever it does; with its wall time. */
async function cli(args: string[]): Promise<{ code: number | null; out: string; ms: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += String(d)));
  child.stderr.on('data', (d: Buffer) => (out += String(d)));
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, out, ms: performance.now() - started };
}

function config(caFile: string, dnsCaFile = CERT_FILE): ReturnType<typeof tempConfig> {
  const cfg = tempConfig(
    [
      'targets:',
      '  - name: web',
      '    url: https://127.0.0.1:1/',
      '    checks:',
      `      - {kind: https, interval: 1h, ca_file: ${caFile}}`,
      `      - {kind: dns, interval: 1h, resolver: "tls://127.0.0.1:1#dns.example", ca_file: ${dnsCaFile}}`,
    ].join('\n'),
  );
  cleanups.push(cfg.remove);
  return cfg;
}

describe('a missing or wrong PEM file is a config error of every command (issue 12 #2)', () => {
  it.each(['validate', 'once'])('%s: exit 2, FILE:LINE:COL and the field, no stack', async (command) => {
    const cfg = config('/nonexistent/ca.pem', '/dev/zero');
    const { code, out } = await cli([command, '-c', cfg.file]);
    expect(code).toBe(2);
    expect(out).toContain(`${cfg.file}:5:46: targets[0].checks[0].ca_file: "/nonexistent/ca.pem" does not exist`);
    expect(out).toContain(
      `${cfg.file}:6:87: targets[0].checks[1].ca_file: "/dev/zero" is not a regular file (a device): name a PEM file`,
    );
    expect(out).not.toMatch(/\n\s+at /);
  });

  it('run: exit 2 at start-up with the position, not a crash', async () => {
    const cfg = config('/nonexistent/ca.pem');
    const { code, out } = await cli(['run', '-c', cfg.file, '--listen', '127.0.0.1:0']);
    expect(code).toBe(2);
    expect(out).toContain(`${cfg.file}:5:46: targets[0].checks[0].ca_file: "/nonexistent/ca.pem" does not exist`);
    expect(out).not.toMatch(/\n\s+at /);
  });

  it.each([
    ['a missing file', '/nonexistent/ca.pem', '"/nonexistent/ca.pem" does not exist'],
    ['/dev/zero', '/dev/zero', '"/dev/zero" is not a regular file (a device)'],
  ])('probe https --ca-file %s: exit 2 at once (--timeout 1s)', async (_what, caFile, message) => {
    const { code, out, ms } = await cli([
      'probe',
      'https',
      'https://127.0.0.1:1/',
      '--ca-file',
      caFile,
      '--timeout',
      '1s',
    ]);
    expect(code).toBe(2);
    // Named as typed on the command line, not as the YAML key.
    expect(out).toContain(`--ca-file: ${message}`);
    expect(out).not.toMatch(/\n\s+at /);
    // Node's start-up and nothing more: /dev/zero is never read.
    expect(ms).toBeLessThan(5_000);
  });

  it('diagnose --ca-file that does not exist: exit 2', async () => {
    const { code, out } = await cli(['diagnose', 'https://127.0.0.1:1/', '--ca-file', '/nonexistent/ca.pem']);
    expect(code).toBe(2);
    expect(out).toContain('"/nonexistent/ca.pem" does not exist');
    expect(out).not.toMatch(/\n\s+at /);
  });

  it('a reload naming a missing file is rejected with its position; the agent keeps the old config', async () => {
    const cfg = config(CERT_FILE);
    const agent = AgentProcess.start(['run', '-c', cfg.file, '--listen', '127.0.0.1:0', '--no-watch']);
    cleanups.push(() => agent.kill());
    const dnsConfigured = /^vantage_checks_configured\{kind="dns"[^}]*\} 1$/m;
    await agent.waitForMetrics((m) => dnsConfigured.test(m));
    cfg.write(
      [
        'targets:',
        '  - name: web',
        '    url: https://127.0.0.1:1/',
        '    checks:',
        '      - {kind: https, interval: 1h, ca_file: /nonexistent/ca.pem}',
      ].join('\n'),
    );
    agent.kill('SIGHUP');
    const rejected = await agent.waitForLog((l) => l.event === 'config_rejected');
    expect(rejected.problems).toEqual([
      `${cfg.file}:5:46: targets[0].checks[0].ca_file: "/nonexistent/ca.pem" does not exist`,
    ]);
    const metrics = await agent.waitForMetrics((m) => /^vantage_config_last_reload_successful\{[^}]*\} 0$/m.test(m));
    expect(metrics).toMatch(dnsConfigured);
    expect(agent.exitCode).toBeUndefined();
  });
});
