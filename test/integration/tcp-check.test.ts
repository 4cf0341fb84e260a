import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckResult, CheckSpec } from '../../src/checks/check.js';
import { tcpKind } from '../../src/checks/tcp/index.js';
import type { TcpFields, TcpSettings } from '../../src/checks/tcp/tcp-settings.js';
import { systemClock } from '../../src/clock.js';
import { RunDeadlineExceeded } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import { existsSync } from 'node:fs';
import { Socket } from 'node:net';
import { connectStamped } from '../../src/net/connect-stamped.js';
import { establishedNs } from '../../src/net/tcp-info.js';
import { systemNet } from '../../src/net/system-net.js';
import { blackholeListener, openListener, refusedListener } from '../helpers/tcp-servers.js';
import type { Listener } from '../helpers/tcp-servers.js';

const log = createLogger('silent');

function spec(host: string, port: number, timeoutMs = 2_000): CheckSpec<TcpSettings> {
  return {
    name: 't',
    kind: 'tcp',
    target: { name: 't', host, group: '', labels: {} },
    schedule: { type: 'interval', intervalMs: 30_000 },
    timeoutMs,
    settings: { port, ip_family: 'any', ips: 'all' },
  };
}

/** Runs the check with a real deadline, as the scheduler would. */
async function run(s: CheckSpec<TcpSettings>): Promise<Array<CheckResult<TcpFields>>> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new RunDeadlineExceeded(s.timeoutMs)), s.timeoutMs);
  try {
    return await tcpKind.create(s, systemNet(systemClock)).run({ signal: controller.signal, clock: systemClock, log });
  } finally {
    clearTimeout(timer);
  }
}

function tcpHandles(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
}

describe('tcp check against real listeners on loopback', () => {
  let open: Listener;
  let hang: Listener;
  let blackhole: Listener;
  beforeAll(async () => {
    [open, hang, blackhole] = await Promise.all([openListener(), openListener({ hang: true }), blackholeListener()]);
  });
  afterAll(async () => {
    await Promise.all([open?.close(), hang?.close(), blackhole?.close()]);
  });

  it('connects to an open port and times the handshake', async () => {
    const [result] = await run(spec('127.0.0.1', open.port));
    expect(result).toMatchObject({ ok: true, error: null, ip: '127.0.0.1', port: open.port });
    expect(result?.connectMs).toBeGreaterThan(0);
    expect(result?.connectMs).toBeLessThan(result!.durationMs);
    expect(result?.phasesMs.connect).toBe(result?.connectMs);
  });

  it('starts the connect clock right before connect(2), on Node 20 and 22 alike (connectStamped)', async () => {
    const socket = new Socket();
    let portAtStart: number | undefined = -1;
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve).once('error', reject);
      connectStamped(socket, { host: '127.0.0.1', port: open.port }, () => (portAtStart = socket.localPort));
    });
    // No local port yet: the kernel had not been asked to connect when the stamp was taken.
    expect(portAtStart).toBeUndefined();
    expect(socket.localPort).toBeGreaterThan(0);
    socket.destroy();
  });

  it("ends the connect at the kernel's handshake time (TCP_INFO) with the addon, else at the callback", async () => {
    const socket = new Socket();
    let startNs = 0n;
    const [callbackNs, kernelNs] = await new Promise<[bigint, bigint]>((resolve, reject) => {
      socket.once('error', reject).once('connect', () => {
        const now = process.hrtime.bigint();
        resolve([now, establishedNs(socket, startNs, now)]);
      });
      connectStamped(socket, { host: '127.0.0.1', port: open.port }, () => (startNs = process.hrtime.bigint()));
    });
    socket.destroy();
    expect(kernelNs).toBeGreaterThan(startNs);
    if (existsSync(new URL('../../build/Release/vantage_tcp_info.node', import.meta.url)))
      expect(kernelNs).toBeLessThan(callbackNs);
    else expect(kernelNs).toBe(callbackNs);
    // A socket the kernel has no connection for: the caller's stamp stands.
    expect(establishedNs(new Socket(), 1n, 5n)).toBe(5n);
  });

  it('resolves localhost through the system resolver and probes each address', async () => {
    const results = await run(spec('localhost', open.port));
    expect(results.length).toBeGreaterThanOrEqual(1);
    const v4 = results.find((r) => r.ip === '127.0.0.1');
    expect(v4?.ok).toBe(true);
    expect(v4?.phasesMs.resolve).toBeGreaterThan(0);
  });

  it('reports a closed port as TCP_REFUSED', async () => {
    const refused = await refusedListener();
    try {
      const [result] = await run(spec('127.0.0.1', refused.port));
      expect(result).toMatchObject({ ok: false, error: { code: 'TCP_REFUSED', phase: 'connect' } });
    } finally {
      await refused.close();
    }
  });

  it('counts a server that accepts and then says nothing as up: only the handshake is timed', async () => {
    const [result] = await run(spec('127.0.0.1', hang.port));
    expect(result).toMatchObject({ ok: true, error: null });
  });

  it('times out on dropped SYNs at the configured timeout and frees the socket', async () => {
    const before = tcpHandles();
    const started = performance.now();
    const [result] = await run(spec('127.0.0.1', blackhole.port, 700));
    const elapsed = performance.now() - started;
    expect(result).toMatchObject({ ok: false, error: { code: 'TCP_TIMEOUT', phase: 'connect' } });
    expect(elapsed).toBeGreaterThanOrEqual(690);
    expect(elapsed).toBeLessThan(1_500);
    await new Promise((r) => setImmediate(r));
    expect(tcpHandles()).toBeLessThanOrEqual(before);
  });

  it('reports an unresolvable name with a DNS code and no ip', async () => {
    const [result] = await run(spec('no-such-host.invalid', 443));
    expect(result?.ok).toBe(false);
    expect(result?.error?.code).toMatch(/^DNS_/);
    expect(result?.error?.phase).toBe('resolve');
    expect(result).not.toHaveProperty('ip');
  });
});
