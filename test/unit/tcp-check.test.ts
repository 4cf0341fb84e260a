import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Check, CheckSpec } from '../../src/checks/check.js';
import { ABANDON_GRACE_MS, runCheck } from '../../src/agent/run-check.js';
import { tcpKind } from '../../src/checks/tcp/index.js';
import type { TcpSettings } from '../../src/checks/tcp/tcp-settings.js';
import { CheckFailure, RunDeadlineExceeded } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import type { NetDeps, ResolvedAddress, TcpConnectRequest } from '../../src/net/net-deps.js';
import { FakeClock } from '../helpers/fake-clock.js';

const silent = createLogger('silent');

function spec(settings: Partial<TcpSettings> = {}, target: Partial<CheckSpec['target']> = {}): CheckSpec<TcpSettings> {
  return {
    name: 'web-tcp',
    kind: 'tcp',
    target: { name: 'web', host: 'web.example', group: '', labels: {}, ...target },
    schedule: { type: 'interval', intervalMs: 30_000 },
    timeoutMs: 5_000,
    settings: { ip_family: 'any', ips: 'all', port: 443, ...settings },
  };
}

/** Resolution takes 4 ms; each connect takes the delay set for its IP, or fails with its code. */
function fakeNet(clock: FakeClock, addresses: ResolvedAddress[], connectMs: Record<string, number | CheckFailure>) {
  const requests: TcpConnectRequest[] = [];
  const net: NetDeps = {
    resolver: {
      async resolve(host, family) {
        await clock.advance(4);
        if (host === 'nx.example') throw new CheckFailure('DNS_NAME_NOT_FOUND', 'no such name', 'resolve');
        return addresses.filter((a) => family === 'any' || (family === 'ipv4' ? a.family === 4 : a.family === 6));
      },
    },
    icmp: { echo: () => Promise.reject(new Error('tcp checks send no ICMP')) },
    dns: { query: () => Promise.reject(new Error('tcp checks send no DNS')) },
    https: { exchange: () => Promise.reject(new Error('tcp checks send no HTTP')) },
    tcp: {
      async connect(req) {
        requests.push(req);
        const startNs = clock.monotonicNs();
        const outcome = connectMs[req.ip];
        if (outcome instanceof CheckFailure) throw outcome;
        return { startNs, connectedNs: startNs + BigInt((outcome ?? 1) * 1e6) };
      },
    },
  };
  return { net, requests };
}

const twoAddresses: ResolvedAddress[] = [
  { address: '192.0.2.1', family: 4 },
  { address: '2001:db8::1', family: 6 },
];

describe('tcp check', () => {
  it('resolves once and connects to every address, one record each', async () => {
    const clock = new FakeClock();
    const { net, requests } = fakeNet(clock, twoAddresses, {
      '192.0.2.1': 12,
      '2001:db8::1': new CheckFailure('TCP_REFUSED', 'refused', 'connect'),
    });
    const results = await tcpKind.create(spec(), net).run({ signal: new AbortController().signal, clock, log: silent });
    expect(requests.map((r) => [r.ip, r.port])).toEqual([
      ['192.0.2.1', 443],
      ['2001:db8::1', 443],
    ]);
    expect(results[0]).toMatchObject({
      ip: '192.0.2.1',
      ok: true,
      error: null,
      port: 443,
      connectMs: 12,
      durationMs: 16,
      phasesMs: { resolve: 4, connect: 12 },
    });
    expect(results[1]).toMatchObject({
      ip: '2001:db8::1',
      ok: false,
      port: 443,
      error: { code: 'TCP_REFUSED', phase: 'connect' },
    });
  });

  it.each([
    [{ ips: 1 }, ['192.0.2.1']],
    [{ ip_family: 'ipv6' as const }, ['2001:db8::1']],
  ])('selects addresses with %j', async (settings, expected) => {
    const clock = new FakeClock();
    const { net, requests } = fakeNet(clock, twoAddresses, {});
    await tcpKind.create(spec(settings), net).run({ signal: new AbortController().signal, clock, log: silent });
    expect(requests.map((r) => r.ip)).toEqual(expected);
  });

  it('gives one record without ip when the name does not resolve', async () => {
    const clock = new FakeClock();
    const { net, requests } = fakeNet(clock, twoAddresses, {});
    const results = await tcpKind
      .create(spec({}, { host: 'nx.example' }), net)
      .run({ signal: new AbortController().signal, clock, log: silent });
    expect(requests).toEqual([]);
    expect(results).toEqual([
      expect.objectContaining({
        ok: false,
        durationMs: 4,
        phasesMs: { resolve: 4 },
        error: { code: 'DNS_NAME_NOT_FOUND', message: 'no such name', phase: 'resolve' },
      }),
    ]);
    expect(results[0]).not.toHaveProperty('ip');
  });

  it('reports an empty answer for the family as DNS_NO_ADDRESS', async () => {
    const clock = new FakeClock();
    const { net } = fakeNet(clock, [{ address: '192.0.2.1', family: 4 }], {});
    const [result] = await tcpKind
      .create(spec({ ip_family: 'ipv6' }), net)
      .run({ signal: new AbortController().signal, clock, log: silent });
    expect(result?.error?.code).toBe('DNS_NO_ADDRESS');
  });

  it.each([
    ['http://web.example:8080/x', 8080],
    ['https://web.example/', 443],
    ['http://web.example/', 80],
  ])('takes the port from the URL target %s', async (url, port) => {
    const clock = new FakeClock();
    const { net, requests } = fakeNet(clock, twoAddresses, {});
    expect(
      tcpKind.checkSettings(
        { name: 'a', host: 'h', url, group: '', labels: {} },
        { ip_family: 'any', ips: 'all' },
        5_000,
      ),
    ).toEqual([]);
    await tcpKind
      .create(spec({ port: undefined, ips: 1 }, { url }), net)
      .run({ signal: new AbortController().signal, clock, log: silent });
    expect(requests.map((r) => r.port)).toEqual([port]);
  });

  it.each([
    ['example.com:443', { host: 'example.com', settings: { port: 443 } }],
    ['[2001:db8::1]:80', { host: '2001:db8::1', settings: { port: 80 } }],
    ['https://example.com/x', { host: 'example.com', url: 'https://example.com/x', settings: {} }],
    ['example.com', { host: 'example.com', settings: {} }],
  ])('reads the probe target %s', (arg, expected) => {
    expect(tcpKind.parseProbeTarget(arg)).toEqual(expected);
  });
});

describe('runCheck', () => {
  const throwing = (err: unknown): Check => ({ spec: spec() as CheckSpec<unknown>, run: () => Promise.reject(err) });

  it('turns a throwing check into an INTERNAL record and logs it', async () => {
    const lines: string[] = [];
    const log = createLogger(
      'error',
      new Writable({ write: (chunk, _enc, cb) => (lines.push(String(chunk)), cb()) }) as never,
    );
    const clock = new FakeClock();
    const [result] = await runCheck(throwing(new TypeError('boom')), {
      signal: new AbortController().signal,
      clock,
      log,
    });
    expect(result).toMatchObject({
      ok: false,
      check: 'web-tcp',
      error: { code: 'INTERNAL', message: 'boom', phase: 'run' },
    });
    expect(lines.join('')).toContain('check threw');
  });

  it('codes a throw caused by the deadline as TIMEOUT', async () => {
    const controller = new AbortController();
    controller.abort(new RunDeadlineExceeded(100));
    const [result] = await runCheck(throwing(controller.signal.reason), {
      signal: controller.signal,
      clock: new FakeClock(),
      log: silent,
    });
    expect(result?.error?.code).toBe('TIMEOUT');
  });
});

describe('runCheck and a check that ignores its signal', () => {
  it('abandons it shortly after the deadline with a TIMEOUT record', async () => {
    const clock = new FakeClock();
    const stuck: Check = { spec: spec() as CheckSpec<unknown>, run: () => new Promise(() => undefined) };
    const controller = new AbortController();
    const pending = runCheck(stuck, { signal: controller.signal, clock, log: silent });
    await clock.advance(1_000);
    controller.abort(new RunDeadlineExceeded(1_000));
    await clock.advance(ABANDON_GRACE_MS - 1);
    let settled = false;
    void pending.then(() => (settled = true));
    await clock.advance(0);
    expect(settled).toBe(false);
    await clock.advance(1);
    const [result] = await pending;
    expect(result).toMatchObject({ ok: false, error: { code: 'TIMEOUT', phase: 'run' } });
    expect(result?.durationMs).toBe(1_000 + ABANDON_GRACE_MS);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('leaves no timer behind when the check finishes in time', async () => {
    const clock = new FakeClock();
    const { net } = fakeNet(clock, twoAddresses, {});
    const controller = new AbortController();
    await runCheck(tcpKind.create(spec(), net) as unknown as Check, { signal: controller.signal, clock, log: silent });
    controller.abort(new RunDeadlineExceeded(1));
    expect(clock.pendingTimers()).toBe(0);
  });
});
