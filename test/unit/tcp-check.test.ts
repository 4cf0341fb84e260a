import { describe, expect, it } from 'vitest';
import type { CheckSpec } from '../../src/checks/check.js';
import { tcpKind } from '../../src/checks/tcp/index.js';
import type { TcpSettings } from '../../src/checks/tcp/tcp-settings.js';
import { CheckFailure } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import type { ResolvedAddress, TcpConnectRequest } from '../../src/net/net-deps.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { fakeNet } from '../helpers/fake-net.js';

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
function tcpNet(clock: FakeClock, addresses: ResolvedAddress[], connectMs: Record<string, number | CheckFailure>) {
  const requests: TcpConnectRequest[] = [];
  const net = fakeNet({
    resolver: {
      async resolve(host, family) {
        await clock.advance(4);
        if (host === 'nx.example') throw new CheckFailure('DNS_NAME_NOT_FOUND', 'no such name', 'resolve');
        return addresses.filter((a) => family === 'any' || (family === 'ipv4' ? a.family === 4 : a.family === 6));
      },
    },
    tcp: {
      async connect(req) {
        requests.push(req);
        const startNs = clock.monotonicNs();
        const outcome = connectMs[req.ip];
        if (outcome instanceof CheckFailure) throw outcome;
        return { startNs, connectedNs: startNs + BigInt((outcome ?? 1) * 1e6) };
      },
    },
  });
  return { net, requests };
}

const twoAddresses: ResolvedAddress[] = [
  { address: '192.0.2.1', family: 4 },
  { address: '2001:db8::1', family: 6 },
];

describe('tcp check', () => {
  it('resolves once and connects to every address, one record each', async () => {
    const clock = new FakeClock();
    const { net, requests } = tcpNet(clock, twoAddresses, {
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
    const { net, requests } = tcpNet(clock, twoAddresses, {});
    await tcpKind.create(spec(settings), net).run({ signal: new AbortController().signal, clock, log: silent });
    expect(requests.map((r) => r.ip)).toEqual(expected);
  });

  it("leaves the adapters' warm-up (NetDeps.ready) out of every phase and the duration", async () => {
    const clock = new FakeClock();
    const { net } = tcpNet(clock, twoAddresses.slice(0, 1), { '192.0.2.1': 12 });
    const results = await tcpKind
      .create(spec(), { ...net, ready: () => clock.advance(500) })
      .run({ signal: new AbortController().signal, clock, log: silent });
    expect(results).toEqual([
      expect.objectContaining({ ok: true, durationMs: 16, phasesMs: { resolve: 4, connect: 12 } }),
    ]);
  });

  it('gives one record without ip when the name does not resolve', async () => {
    const clock = new FakeClock();
    const { net, requests } = tcpNet(clock, twoAddresses, {});
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
    const { net } = tcpNet(clock, [{ address: '192.0.2.1', family: 4 }], {});
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
    const { net, requests } = tcpNet(clock, twoAddresses, {});
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
