import { isIP } from 'node:net';
import type { Clock } from '../clock.js';
import { AddressBook } from './address-book.js';
import type { DnsClient } from './dns/dns-client.js';
import type { HttpsClient } from './http/https-client.js';
import { IcmpEngine } from './icmp/icmp-engine.js';
import { untilLoopQuiet } from './loop-quiet.js';
import type { NetDeps } from './net-deps.js';
import { SystemResolver } from './system-resolver.js';
import { NodeTcpConnector } from './tcp-connector.js';

/** The adapters of `NetDeps` whose one-off warm-up `ready()` can wait for. */
type NetAdapter = 'resolver' | 'tcp' | 'dns' | 'https';

const ALL_ADAPTERS: readonly NetAdapter[] = ['resolver', 'tcp', 'dns', 'https'];

/**
 * The adapters whose warm-up each check kind's run would otherwise pay (ICMP needs none: the engine
 * warms its own socket). Names only, so the network layer imports nothing from checks/.
 */
const ADAPTERS_OF_KIND: Readonly<Record<string, readonly NetAdapter[]>> = {
  tcp: ['resolver', 'tcp'],
  icmp: ['resolver'],
  traceroute: ['resolver'],
  dns: ['resolver', 'dns'],
  https: ['resolver', 'https'],
};

/** Creates the value once, on first call: a client's module and its warm-up cost nothing until then. */
function once<T>(create: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => (value ??= create());
}

/**
 * The real network adapters. The first `ready(kinds)` starts the warm-ups (a loopback exchange of
 * each adapter's own, so a fresh process's cold code is in no phase) of what those kinds use, all
 * without kinds, and every later call waits for the same: `vantage probe tcp` and an agent of tcp
 * checks load neither TLS nor the DNS client, 60-250 ms of start-up. A client not warmed then is
 * loaded and warmed at its first exchange, before that exchange's first stamp (its phases stay
 * true; only that run's duration includes it). An agent serves /metrics before it asks. The ICMP
 * engine opens its raw sockets on first use. With `httpsOnWorker` (the agent), HTTPS exchanges run
 * on a worker thread of their own (http/https-worker-client.ts); a one-shot command keeps them on
 * its thread, where no other run waits and a worker's start would only add to its time.
 */
export function systemNet(
  clock: Clock,
  opts: { httpsOnWorker?: boolean } = {},
): NetDeps & { icmp: IcmpEngine; ready(kinds?: readonly string[], hosts?: readonly string[]): Promise<void> } {
  const resolver = new SystemResolver();
  const tcp = new NodeTcpConnector(clock);
  const dns = once<DnsClient>(async () => new (await import('./dns/dns-client.js')).DnsClient(clock));
  const https = once<Pick<HttpsClient, 'exchange' | 'warmed'>>(async () =>
    opts.httpsOnWorker
      ? new (await import('./http/https-worker-client.js')).HttpsWorkerClient()
      : new (await import('./http/https-client.js')).HttpsClient(clock),
  );
  const warmUps: Record<NetAdapter, () => Promise<unknown>> = {
    resolver: () => resolver.warm(),
    tcp: () => tcp.warm(),
    dns: async () => (await dns()).warmed,
    https: async () => (await https()).warmed,
  };
  let warmed: Promise<void> | undefined;
  const ready = (kinds?: readonly string[], hosts?: readonly string[]): Promise<void> => {
    // Every run asks (runPerIp): only the first may build the set.
    if (warmed) return warmed;
    const adapters = new Set(kinds ? kinds.flatMap((k) => ADAPTERS_OF_KIND[k] ?? ALL_ADAPTERS) : ALL_ADAPTERS);
    // A literal never reaches getaddrinfo: its warm-up (the libuv pool's threads, two lookups each) was
    // about 25 ms of a `probe tcp 127.0.0.1`.
    if (hosts && hosts.length > 0 && hosts.every((host) => isIP(host) !== 0)) adapters.delete('resolver');
    warmed = Promise.all([...adapters].map((adapter) => warmUps[adapter]())).then(() => untilLoopQuiet(clock));
    return warmed;
  };
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
