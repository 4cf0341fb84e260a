import { readdirSync, readFileSync } from 'node:fs';
import bcrypt from 'bcryptjs';
import { describe, expect, it } from 'vitest';
import { agentFixture } from '../helpers/agent-fixture.js';
import { BIN } from '../helpers/agent-process.js';
import type { AgentProcess } from '../helpers/agent-process.js';
import { refusedListener } from '../helpers/tcp-servers.js';

// The agent's thread (and the HTTPS worker it starts) at probe_thread_nice; the libuv pool and V8's
// helper threads at the agent's own nice; the bcrypt worker at 19. Read from /proc, as the kernel
// schedules them.

const root = process.getuid?.() === 0;
const fixture = agentFixture(refusedListener);

interface Thread {
  tid: string;
  nice: number;
}

function threads(pid: number): Thread[] {
  return readdirSync(`/proc/${pid}/task`).map((tid) => {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    // Fields after the name (which may hold spaces) start at the state, field 3; nice is field 19.
    const after = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { tid, nice: Number(after[16]) };
  });
}

function config(extra = ''): string {
  return `${extra}targets:
  - name: web
    url: https://127.0.0.1:${fixture.port()}/
    checks: [{kind: https, interval: 1s, timeout: 500ms}]
`;
}

function start(text: string, args: string[] = [], command?: string[]): AgentProcess {
  return fixture.start(text, args, command);
}

function gauge(body: string): number | undefined {
  const line = body.split('\n').find((l) => l.startsWith('vantage_probe_thread_nice'));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe.skipIf(!root)('probe_thread_nice', () => {
  it('raises the probe thread and the HTTPS worker only; the bcrypt worker runs at 19', async () => {
    const web = fixture.file(`basic_auth_users:\n  prom: '${bcrypt.hashSync('pw', 4)}'\n`);
    const agent = start(config('probe_thread_nice: -7\n'), ['--web.config.file', web.file]);
    const port = await agent.port();
    const pid = agent.child.pid!;
    const auth = { authorization: `Basic ${Buffer.from('prom:pw').toString('base64')}` };
    const body = await (await fetch(`http://127.0.0.1:${port}/metrics`, { headers: auth })).text();
    expect(gauge(body)).toBe(-7);
    expect(agent.logs.find((l) => l.msg === 'probe thread nice')?.nice).toBe(-7);
    const all = threads(pid);
    const byNice = (nice: number): Thread[] => all.filter((t) => t.nice === nice);
    // The main thread (tid = pid) and the HTTPS worker's thread, nothing else.
    expect(byNice(-7).map((t) => t.tid)).toContain(String(pid));
    expect(byNice(-7)).toHaveLength(2);
    // The bcrypt worker answered the scrape's password check.
    expect(byNice(19)).toHaveLength(1);
    // Every other thread at 0: the libuv pool (64 threads for `run`; Node 20's are unnamed) and V8's.
    expect(all.length - byNice(-7).length - byNice(19).length).toBe(byNice(0).length);
    expect(byNice(0).length).toBeGreaterThanOrEqual(64);
  });

  it('without CAP_SYS_NICE keeps the nice it has, says how to allow it, and runs its checks', async () => {
    const noNice = ['setpriv', '--bounding-set=-sys_nice', '--inh-caps=-sys_nice', process.execPath, BIN];
    const agent = start(config(), [], noNice);
    await agent.port();
    const denied = await agent.waitForLog((l) => l.code === 'PROBE_THREAD_NICE_DENIED');
    expect(denied.msg).toMatch(/probe_thread_nice -10 not applied \(EACCES\).*CAP_SYS_NICE/);
    const body = await agent.waitForMetrics((b) => b.includes('probe_success{check="web-https"'));
    expect(gauge(body)).toBe(0);
    expect(threads(agent.child.pid!).every((t) => t.nice === 0)).toBe(true);
  });

  it('at 0 leaves every thread alone', async () => {
    const agent = start(config('probe_thread_nice: 0\n'));
    await agent.port();
    expect(gauge(await agent.scrape())).toBe(0);
    expect(threads(agent.child.pid!).every((t) => t.nice === 0)).toBe(true);
  });
});
