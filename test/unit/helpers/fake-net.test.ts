import { describe, expect, it } from 'vitest';
import { CheckFailure } from '../../../src/errors.js';
import { AddressBook } from '../../../src/net/address-book.js';
import type { NetDeps } from '../../../src/net/net-deps.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { fakeNet, PortNotGiven, tableResolver } from '../../helpers/fake-net.js';
import type { PortName } from '../../helpers/fake-net.js';

const signal = new AbortController().signal;

/** One call of each port's method, with whatever arguments: the stubs never read them. */
const calls: Array<[PortName, string, (net: NetDeps) => Promise<unknown>]> = [
  ['resolver', 'resolve', (net) => net.resolver.resolve('www.example', 'any', signal)],
  ['tcp', 'connect', (net) => net.tcp.connect({ ip: '192.0.2.1', port: 443, signal })],
  ['icmp', 'echo', (net) => net.icmp.echo({ address: '192.0.2.1', family: 4, timeoutMs: 1 })],
  [
    'dns',
    'query',
    (net) => net.dns.query({ server: { transport: 'udp', address: '', port: 53 }, name: '', type: 'A', signal }),
  ],
  ['https', 'exchange', (net) => net.https.exchange({} as Parameters<NetDeps['https']['exchange']>[0])],
];

/** Built outside any test: its stray calls are watched from the call on. */
const moduleLevelNet = fakeNet();

describe('fakeNet', () => {
  it.each(calls)('gives a %s port that was not given which rejects %s, naming both', async (port, method, call) => {
    const all: Record<PortName, Record<string, () => Promise<string>>> = {
      resolver: { resolve: async () => 'ok' },
      tcp: { connect: async () => 'ok' },
      icmp: { echo: async () => 'ok' },
      dns: { query: async () => 'ok' },
      https: { exchange: async () => 'ok' },
    };
    delete all[port];
    const net = fakeNet(all as unknown as Partial<NetDeps>, { failTest: false });
    const err = await call(net).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PortNotGiven);
    expect(err).toMatchObject({ port, method });
    expect((err as Error).message).toBe(
      `fakeNet: the check called ${port}.${method}(), but this test gave it no \`${port}\` port`,
    );
    // Every other port is the one given.
    for (const [p, , other] of calls) if (p !== port) await expect(other(net)).resolves.toBe('ok');
  });

  it('passes the ports and address book it is given through untouched, and leaves optional methods absent', () => {
    const resolver = tableResolver({});
    const addressBook = new AddressBook(() => 0);
    const net = fakeNet({ resolver, addressBook });
    expect(net.resolver).toBe(resolver);
    expect(net.addressBook).toBe(addressBook);
    expect(net.icmp.open).toBeUndefined();
    expect(net.icmp.close).toBeUndefined();
    expect(fakeNet()).not.toHaveProperty('addressBook');
  });

  it.fails('fails the test when a port not given was called, even if the caller swallowed the rejection', async () => {
    await fakeNet()
      .dns.query({ server: { transport: 'udp', address: '', port: 53 }, name: '', type: 'A', signal })
      .catch(() => undefined);
  });

  it.fails.each([1, 2])(
    'fails each test (%d) that calls a stray port of a NetDeps built outside any test',
    async () => {
      await moduleLevelNet.icmp.echo({ address: '192.0.2.1', family: 4, timeoutMs: 1 }).catch(() => undefined);
    },
  );

  it('does not blame a test that made no stray call for an earlier one', () => {
    expect(moduleLevelNet.icmp.open).toBeUndefined();
  });
});

describe('tableResolver', () => {
  it('answers from its table, filtered by family, and records every call', async () => {
    const resolver = tableResolver({
      'www.example': [
        { address: '192.0.2.1', family: 4 },
        { address: '2001:db8::1', family: 6 },
      ],
      'bad.example': new CheckFailure('DNS_TIMEOUT', 'no answer', 'resolve'),
    });
    expect(await resolver.resolve('www.example', 'ipv6', signal)).toEqual([{ address: '2001:db8::1', family: 6 }]);
    expect(await resolver.resolve('www.example', 'any', signal)).toHaveLength(2);
    await expect(resolver.resolve('bad.example', 'any', signal)).rejects.toMatchObject({ code: 'DNS_TIMEOUT' });
    await expect(resolver.resolve('nx.example', 'any', signal)).rejects.toMatchObject({ code: 'DNS_NAME_NOT_FOUND' });
    expect(resolver.calls.map((c) => `${c.host} ${c.family}`)).toEqual([
      'www.example ipv6',
      'www.example any',
      'bad.example any',
      'nx.example any',
    ]);
  });

  it('takes its delay in fake time after the call returned', async () => {
    const clock = new FakeClock();
    const resolver = tableResolver({ 'www.example': [] }, { clock, delayMs: 7 });
    const pending = resolver.resolve('www.example', 'any', signal);
    const atCall = clock.monotonicNs();
    await pending;
    expect(Number(clock.monotonicNs() - atCall) / 1e6).toBe(7);
  });
});
