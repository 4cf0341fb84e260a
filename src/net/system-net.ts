import type { Clock } from '../clock.js';
import { AddressBook } from './address-book.js';
import { DnsClient } from './dns/dns-client.js';
import { HttpsClient } from './http/https-client.js';
import { IcmpEngine } from './icmp/icmp-engine.js';
import type { NetDeps } from './net-deps.js';
import { SystemResolver } from './system-resolver.js';
import { NodeTcpConnector } from './tcp-connector.js';

/**
 * The real network adapters, each warming its code path on loopback at creation (`ready`). The
 * ICMP engine opens its raw sockets on first use.
 */
export function systemNet(clock: Clock): NetDeps & { icmp: IcmpEngine; ready(): Promise<void> } {
  const resolver = new SystemResolver();
  const tcp = new NodeTcpConnector(clock);
  const dns = new DnsClient(clock);
  const https = new HttpsClient(clock);
  const warmed = Promise.all([resolver.warmed, tcp.warmed, dns.warmed, https.warmed]).then(() => undefined);
  return {
    resolver,
    tcp,
    icmp: new IcmpEngine(clock),
    dns,
    https,
    addressBook: new AddressBook(() => clock.wallMs()),
    ready: () => warmed,
  };
}
