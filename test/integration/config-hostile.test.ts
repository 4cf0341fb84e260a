import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { agentFixture } from '../helpers/agent-fixture.js';
import { vantage } from '../helpers/agent-process.js';
import type { AgentProcess } from '../helpers/agent-process.js';
import { openListener } from '../helpers/tcp-servers.js';

// Issue 12, defects 5 and 8: config files that are not files, never end, or expand without bound.

const fixture = agentFixture(openListener);

function config(checkName: string): string {
  return (
    `agent: {id: a1}\ntargets:\n  - name: up\n    host: 127.0.0.1\n    checks: [{kind: tcp, name: ${checkName}, ` +
    `port: ${fixture.port()}, interval: 1s, timeout: 500ms}]\n`
  );
}

/** The classic "billion laughs": nine levels of nine aliases, 400 bytes that expand to 9^9 values. */
function aliasBomb(): string {
  const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (const [prev, name] of [...'abcdefgh'].map((c, i) => [c, 'bcdefghi'[i]])) {
    lines.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`);
  }
  return `${lines.join('\n')}\n`;
}

/** Where the bomb's aliases pass 1,000,000 added values: the first `*f` (line g). */
const BOMB_AT = { line: 7, col: 8 };

function startAgent(text: string, args: string[] = []) {
  const cfg = fixture.file(text);
  return { agent: fixture.run(cfg.file, ['--no-watch', ...args]), cfg };
}

const reloadOk = (body: string): number | undefined => {
  const m = /^vantage_config_last_reload_successful\{[^}]*\} (\d)$/m.exec(body);
  return m ? Number(m[1]) : undefined;
};
const runsOf = (body: string, check: string): number =>
  Number(new RegExp(`^vantage_check_runs_total\\{check="${check}"[^}]*\\} (\\d+)$`, 'm').exec(body)?.[1] ?? 0);

describe('config files that are not regular files', () => {
  it('a FIFO in place of the config is rejected at once; a good file then reloads; SIGTERM stops in time', async () => {
    const { agent, cfg } = startAgent(config('first'), ['--shutdown-timeout', '2s']);
    await agent.waitForMetrics((b) => runsOf(b, 'first') >= 1);
    rmSync(cfg.file);
    execFileSync('mkfifo', [cfg.file]);
    agent.child.kill('SIGHUP');
    const rejected = await agent.waitForLog((l) => l.event === 'config_rejected');
    expect(rejected.problems).toEqual([`${cfg.file}:1:1: ${notRegular('a FIFO (named pipe)')}`]);
    await agent.waitForMetrics((b) => reloadOk(b) === 0);

    rmSync(cfg.file);
    writeFileSync(cfg.file, config('second'));
    agent.child.kill('SIGHUP');
    await agent.waitForLog((l) => l.msg === 'config reloaded');
    const body = await agent.waitForMetrics((b) => runsOf(b, 'second') >= 1);
    expect(reloadOk(body)).toBe(1);
    expect(body).not.toContain('check="first"');

    const sent = Date.now();
    agent.child.kill('SIGTERM');
    expect(await agent.waitForExit(5_000)).toBe(0);
    expect(Date.now() - sent).toBeLessThan(2_500);
  }, 30_000);

  it('SIGTERM right after a reload of a FIFO still stops the agent within the deadline', async () => {
    const { agent, cfg } = startAgent(config('first'), ['--shutdown-timeout', '2s']);
    await agent.port();
    rmSync(cfg.file);
    execFileSync('mkfifo', [cfg.file]);
    agent.child.kill('SIGHUP');
    await new Promise((r) => setTimeout(r, 200));
    const sent = Date.now();
    agent.child.kill('SIGTERM');
    expect(await agent.waitForExit(5_000)).toBe(0);
    expect(Date.now() - sent).toBeLessThan(2_500);
  }, 30_000);

  it('a config symlinked to /dev/zero is refused by validate (exit 2, 1:1) without reading it', async () => {
    const cfg = fixture.file('');
    rmSync(cfg.file);
    symlinkSync('/dev/zero', cfg.file);
    const { code, stderr } = await vantage(['validate', '-c', cfg.file]);
    expect(code).toBe(2);
    expect(stderr).toBe(`${cfg.file}:1:1: ${notRegular('a character device')}\n`);
  });

  it('a reload of a config symlinked to /dev/zero is rejected, memory stays flat, the old config runs on', async () => {
    const { agent, cfg } = startAgent(config('first'));
    await agent.waitForMetrics((b) => runsOf(b, 'first') >= 1);
    rmSync(cfg.file);
    symlinkSync('/dev/zero', cfg.file);
    agent.child.kill('SIGHUP');
    const rejected = await agent.waitForLog((l) => l.event === 'config_rejected');
    expect(rejected.problems).toEqual([`${cfg.file}:1:1: ${notRegular('a character device')}`]);
    const body = await agent.waitForMetrics((b) => reloadOk(b) === 0);
    const runs = runsOf(body, 'first');
    await agent.waitForMetrics((b) => runsOf(b, 'first') > runs);
    expect(rssMiB(agent)).toBeLessThan(200);
  }, 30_000);

  it('a config larger than 16 MiB is refused at 1:1 with the bound in the message', async () => {
    const cfg = fixture.file('');
    truncateSync(cfg.file, 16 * 1024 * 1024 + 1);
    const { code, stderr } = await vantage(['validate', '-c', cfg.file]);
    expect(code).toBe(2);
    expect(stderr).toBe(`${cfg.file}:1:1: the config file is larger than 16 MiB, the most accepted\n`);
  });
});

describe('a YAML alias bomb', () => {
  const expected = (file: string) =>
    `${file}:${BOMB_AT.line}:${BOMB_AT.col}: YAML: aliases expand this file past 1,000,000 values here (*f; an ` +
    'alias bomb?): write the repeated parts out, or alias fewer and smaller pieces';

  it.each([['validate'], ['run']])('is a located config problem for %s: exit 2, FILE:LINE:COL', async (command) => {
    const cfg = fixture.file(`${aliasBomb()}${config('x').replace('agent: {id: a1}\n', '')}`);
    const args = command === 'run' ? ['--listen', '127.0.0.1:0'] : [];
    const { code, stderr } = await vantage([command, '-c', cfg.file, ...args]);
    expect(code).toBe(2);
    expect(stderr).toBe(`${expected(cfg.file)}\n`);
  });

  it('on reload is rejected with its position (config_rejected, metric 0) while the old config runs on', async () => {
    const { agent, cfg } = startAgent(config('first'));
    await agent.waitForMetrics((b) => runsOf(b, 'first') >= 1);
    cfg.write(`${aliasBomb()}${config('second').replace('agent: {id: a1}\n', '')}`);
    agent.child.kill('SIGHUP');
    const rejected = await agent.waitForLog((l) => l.event === 'config_rejected');
    expect(rejected.problems).toEqual([expected(cfg.file)]);
    expect(agent.logs.some((l) => l.level === 'error' && l.err !== undefined)).toBe(false);
    const body = await agent.waitForMetrics((b) => reloadOk(b) === 0);
    const runs = runsOf(body, 'first');
    const later = await agent.waitForMetrics((b) => runsOf(b, 'first') > runs);
    expect(later).not.toContain('check="second"');
  }, 30_000);
});

function notRegular(what: string): string {
  return (
    `the config must be a regular file, and this is ${what}: point -c at the YAML file (a symlink to a regular ` +
    'file is fine)'
  );
}

function rssMiB(agent: AgentProcess): number {
  const status = readFileSync(`/proc/${agent.child.pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? Infinity) / 1024;
}
