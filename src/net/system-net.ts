import type { Clock } from '../clock.js';
import { AddressBook } from './address-book.js';
import type { DnsClient } from './dns/dns-client.js';
import type { HttpsClient } from './http/https-client.js';
import { IcmpEngine } from './icmp/icmp-engine.js';
import type { NetDeps } from './net-deps.js';
import { SystemResolver } from './system-resolver.js';
import { NodeTcpConnector } from './tcp-connector.js';

/** The adapters of `NetDeps` whose one-off warm-up `ready()` can wait for. */
export type NetAdapter = 'resolver' | 'tcp' | 'dns' | 'https';

/** Every adapter: what an agent whose checks are not known yet warms. */
export const ALL_ADAPTERS: readonly NetAdapter[] = ['resolver', 'tcp', 'dns', 'https'];

/** Creates the value once, on first call: a client's module and its warm-up cost nothing until then. */
function once<T>(create: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => (value ??= create());
}

/**
 * The real network adapters. `warm` lists those whose warm-up (a loopback exchange of their own, so
 * a fresh process's cold code is in no phase) the first `ready()` starts and waits for: `vantage probe tcp`
 * needs neither TLS nor DNS, whose modules and throwaway certificates cost it 100-250 ms. The DNS
 * and HTTPS clients are loaded on first use otherwise (then warmed before that first exchange, so
 * its phases stay true; only its run's duration includes the warm-up). The ICMP engine opens its raw
 * sockets on first use.
 */
export function systemNet(
  clock: Clock,
  warm: readonly NetAdapter[] = ALL_ADAPTERS,
): NetDeps & { icmp: IcmpEngine; ready(): Promise<void> } {
  const resolver = new SystemResolver();
  const tcp = new NodeTcpConnector(clock);
  const dns = once<DnsClient>(async () => new (await import('./dns/dns-client.js')).DnsClient(clock));
  const https = once<HttpsClient>(async () => new (await import('./http/https-client.js')).HttpsClient(clock));
  const warmUps: Record<NetAdapter, () => Promise<unknown>> = {
    resolver: () => resolver.warmed,
    tcp: () => tcp.warmed,
    dns: async () => (await dns()).warmed,
    https: async () => (await https()).warmed,
  };
  // Started by the first ready(): an agent serves /metrics before it asks, so start-up does not wait on them.
  const ready = once(() => Promise.all(warm.map((adapter) => warmUps[adapter]())).then(() => undefined));
  return {
    resolver,
    tcp,
    icmp: new IcmpEngine(clock),
    dns: { query: async (request) => (await dns()).query(request) },
    https: { exchange: async (request) => (await https()).exchange(request) },
    addressBook: new AddressBook(() => clock.wallMs()),
    ready,
  };
}
