import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { IcmpEngine } from '../../src/net/icmp/icmp-engine.js';
import { AgentProcess, BIN, jsonLines, tempConfig, vantage } from '../helpers/agent-process.js';
import { openListener } from '../helpers/tcp-servers.js';

const root = process.getuid?.() === 0;

/** Real raw sockets on loopback: every 127.0.0.0/8 address answers echo requests on Linux. */
describe.skipIf(!root)('ICMP engine on loopback', () => {
  const engine = new IcmpEngine(systemClock);
  afterAll(() => engine.close());

  it('1,000 targets at once: every reply is matched to its own target, none lost', async () => {
    const targets = Array.from({ length: 1000 }, (_, i) => `127.1.${(i + 1) >> 8}.${(i + 1) & 0xff}`);
    await engine.echo({ address: '127.0.0.1', family: 4, timeoutMs: 1_000 }); // opens and warms the socket
    const before = engine.stats();
    const outcomes = await Promise.all(targets.map((address) => engine.echo({ address, family: 4, timeoutMs: 2_000 })));
    outcomes.forEach((o, i) => {
      expect(o.status).toBe('reply');
      if (o.status === 'reply') {
        expect(o.from).toBe(targets[i]);
        expect(Number(o.rttNs)).toBeGreaterThan(0);
      }
    });
    const after = engine.stats();
    expect(after.received - before.received).toBe(1000);
    expect(after.unmatched - before.unmatched).toBe(0);
  });

  it('another process pinging at the same time does not disturb the results', async () => {
    const other = spawn('ping', ['-q', '-i', '0.002', '-c', '500', '127.0.0.1'], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 50));
      const outcomes = await Promise.all(
        Array.from({ length: 500 }, (_, i) =>
          engine.echo({ address: `127.2.${(i + 1) >> 8}.${(i + 1) & 0xff}`, family: 4, timeoutMs: 2_000 }),
        ),
      );
      expect(outcomes.filter((o) => o.status === 'reply')).toHaveLength(500);
    } finally {
      other.kill();
    }
  });

  it('a reply the kernel stamped in time is a reply, even when the event loop was busy past the deadline', async () => {
    await engine.echo({ address: '127.0.0.1', family: 4, timeoutMs: 1_000 });
    const outcomes: Array<Promise<{ status: string }>> = [];
    for (let i = 0; i < 5; i++) {
      outcomes.push(engine.echo({ address: `127.3.0.${i + 1}`, family: 4, timeoutMs: 50 }));
      await new Promise((r) => setImmediate(r)); // let it go out
      const until = performance.now() + 80; // then hog the loop beyond its deadline
      while (performance.now() < until);
    }
    expect((await Promise.all(outcomes)).map((o) => o.status)).toEqual(Array(5).fill('reply'));
  });

  it('answers to a non-canonical IPv6 literal', async () => {
    const outcome = await engine.echo({ address: '0:0:0:0:0:0:0:1', family: 6, timeoutMs: 1_000 });
    expect(outcome).toMatchObject({ status: 'reply', from: '::1' });
  });

  it("IPv6 to ::1, reading the reply's hop limit", async () => {
    const outcome = await engine.echo({ address: '::1', family: 6, timeoutMs: 1_000 });
    expect(outcome).toMatchObject({ status: 'reply', from: '::1', ttl: 64 });
  });
});

describe.skipIf(!root)('vantage without CAP_NET_RAW', { timeout: 20_000 }, () => {
  /** The same CLI with the capability removed from its bounding set: root, but no raw sockets. */
  const withoutRaw = (args: string[]) =>
    vantage(['--bounding-set', '-net_raw', '--inh-caps', '-net_raw', process.execPath, ...args]);

  it('the icmp check fails with one clear error naming both fixes; the tcp check still runs', async () => {
    const listener = await openListener();
    // raw: whatever this host's ping_group_range, no ping socket is tried.
    const cfg = tempConfig(`icmp_socket: raw
targets:
  - name: local
    host: 127.0.0.1
    checks:
      - {kind: tcp, port: ${listener.port}}
      - {kind: icmp, count: 1}
`);
    try {
      const { code, stdout } = await withoutRaw(['once', '-c', cfg.file, '--json']);
      expect(code).toBe(1);
      const records = jsonLines<{ kind: string; ok: boolean; error: { code: string; message: string } | null }>(stdout);
      expect(records.find((r) => r.kind === 'tcp')?.ok).toBe(true);
      const icmp = records.find((r) => r.kind === 'icmp');
      expect(icmp?.error?.code).toBe('ICMP_UNAVAILABLE');
      expect(icmp?.error?.message).toMatch(/CAP_NET_RAW/);
      expect(icmp?.error?.message).toMatch(/ping_group_range/);
    } finally {
      cfg.remove();
      await listener.close();
    }
  });

  it('the agent says so at start-up, before any ping has run: one log line with the fix, and the metric', async () => {
    // New Year's midnight: the check is configured but does not run during the test.
    const cfg = tempConfig(
      'icmp_socket: raw\ntargets:\n  - {name: local, host: 127.0.0.1, checks: [{kind: icmp, cron: "0 0 1 1 *"}]}\n',
    );
    const agent = AgentProcess.start(['run', '-c', cfg.file, '--listen', '127.0.0.1:0'], {}, [
      'setpriv',
      '--bounding-set',
      '-net_raw',
      '--inh-caps',
      '-net_raw',
      process.execPath,
      BIN,
    ]);
    try {
      const warning = await agent.waitForLog((l) => l.code === 'ICMP_UNAVAILABLE' && l.family === 'ipv4');
      expect(warning.msg).toMatch(/CAP_NET_RAW/);
      const body = await agent.waitForMetrics((b) => b.includes('vantage_icmp_available{'));
      expect(body).toMatch(/vantage_icmp_available\{family="ipv4",[^}]*socket="none"[^}]*\} 0/);
      expect(body).not.toMatch(/vantage_check_runs_total\{/);
    } finally {
      agent.kill();
      cfg.remove();
    }
  });
});
