import { request } from 'node:http';
import { Agent as HttpAgent } from 'node:http';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentProcess, BIN, tempConfig } from '../helpers/agent-process.js';
import { openListener } from '../helpers/tcp-servers.js';
import type { Listener } from '../helpers/tcp-servers.js';

// The agent's listener under load it must shrug off (issue 18), against a real `vantage run`.
// Every load here is bounded in count and time, on loopback only.

const agents: AgentProcess[] = [];
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const a of agents.splice(0)) a.kill();
  for (const c of cleanups.splice(0)) await c();
});

async function start(target: Listener, command?: string[]): Promise<{ agent: AgentProcess; port: number }> {
  const cfg = tempConfig(`agent: {id: abuse}
targets:
  - {name: local, host: 127.0.0.1, checks: [{kind: tcp, port: ${target.port}, interval: 1s, timeout: 500ms}]}
`);
  cleanups.push(() => cfg.remove());
  const agent = AgentProcess.start(['run', '-c', cfg.file, '--listen', '127.0.0.1:0'], {}, command);
  agents.push(agent);
  return { agent, port: await agent.port() };
}

function sample(body: string, series: RegExp): number {
  const values = [...body.matchAll(series)].map((m) => Number(m[1]));
  return values.reduce((a, b) => a + b, 0);
}

const RUNS_OK = /^vantage_check_runs_total\{[^}]*result="success"[^}]*\} (\d+)$/gm;
const FAILURES = /^vantage_check_failures_total\{[^}]*\} (\d+)$/gm;

/**
 * Opens `count` connections that never send a byte, `batch` at a time; resolves once each is
 * connected or closed. Batches keep the agent's accept queue (Node's backlog, 511) from
 * overflowing: the kernel then drops a client's last handshake ACK while the client counts itself
 * connected, and such a connection reaches the agent only when a SYN-ACK is retransmitted (1 s,
 * 3 s, 7 s later), which on a loaded CI machine was after the flood ended (66 of 1,500 in one run).
 */
async function idleConnections(port: number, count: number, batch = 128): Promise<Socket[]> {
  const sockets: Socket[] = [];
  while (sockets.length < count) {
    const opened = Array.from({ length: Math.min(batch, count - sockets.length) }, () => connect(port, '127.0.0.1'));
    await Promise.all(
      opened.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.once('connect', () => resolve());
            s.once('close', () => resolve());
            s.on('error', () => undefined);
          }),
      ),
    );
    sockets.push(...opened);
    // A turn of the agent's loop to accept them before the next batch.
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return sockets;
}

describe('the agent listener under abuse', () => {
  it('keeps descriptors for probes while 1,500 idle connections hit an agent limited to 1,024 files', async () => {
    const target = await openListener();
    cleanups.push(() => target.close());
    // Node cannot raise a hard limit: the agent really has 1,024 descriptors.
    const { agent, port } = await start(target, ['prlimit', '--nofile=1024:1024', process.execPath, BIN]);
    const before = await agent.waitForMetrics((b) => sample(b, RUNS_OK) >= 2);
    const flood = await idleConnections(port, 1_500);
    cleanups.push(() => flood.forEach((s) => s.destroy()));
    // Three more runs of the check while the flood holds every connection it got.
    await new Promise((resolve) => setTimeout(resolve, 3_500));
    for (const s of flood) s.destroy();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const after = await agent.scrape();
    expect(sample(after, RUNS_OK) - sample(before, RUNS_OK)).toBeGreaterThanOrEqual(3);
    expect(sample(after, FAILURES)).toBe(0);
    // Half of the 1,024 descriptors at most went to the listener; the rest were closed on accept,
    // bar the few still waiting in the kernel's accept queue when the flood ended (6 in one CI run).
    const rejected = sample(after, /^vantage_web_connections_rejected_total\{[^}]*\} (\d+)$/gm);
    expect(rejected).toBeGreaterThanOrEqual(1_500 - 512 - 32);
    expect(rejected).toBeLessThanOrEqual(1_500);
  }, 30_000);

  it('serves 500 concurrent scrapes, all of them, while every probe run succeeds', async () => {
    const target = await openListener();
    cleanups.push(() => target.close());
    const { agent, port } = await start(target);
    await agent.waitForMetrics((b) => sample(b, RUNS_OK) >= 2);
    const pool = new HttpAgent({ keepAlive: false, maxSockets: Infinity });
    cleanups.push(() => pool.destroy());
    // Bounded: 500 requests, each given up after 40 s (a busy CI machine renders them slowly).
    const statuses = await Promise.all(
      Array.from(
        { length: 500 },
        () =>
          new Promise<number>((resolve) => {
            const req = request({ host: '127.0.0.1', port, path: '/metrics', agent: pool, timeout: 40_000 }, (res) => {
              res.resume();
              res.on('end', () => resolve(res.statusCode ?? 0));
            });
            req.on('timeout', () => req.destroy());
            req.on('error', () => resolve(0));
            req.end();
          }),
      ),
    );
    expect(statuses.filter((s) => s === 200)).toHaveLength(500);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const body = await agent.scrape();
    // No probe run failed through the burst. How late runs started is timing: bench/, not a test on
    // a shared machine (under a load average of 16 on 2 cores one run in ten started over 1 s late,
    // with the previous server as with this one).
    expect(sample(body, FAILURES)).toBe(0);
  }, 60_000);
});
