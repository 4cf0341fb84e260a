import type { Clock } from '../clock.js';
import { AddressBook } from './address-book.js';
import { DnsClient } from './dns/dns-client.js';
import { HttpsClient } from './http/https-client.js';
import { IcmpEngine } from './icmp/icmp-engine.js';
import type { NetDeps } from './net-deps.js';
import { SystemResolver } from './system-resolver.js';
import { NodeTcpConnector } from './tcp-connector.js';

/** The real network adapters. The ICMP engine opens its raw sockets on first use. */
export function systemNet(clock: Clock): NetDeps & { icmp: IcmpEngine } {
  return {
    resolver: new SystemResolver(),
    tcp: new NodeTcpConnector(clock),
    icmp: new IcmpEngine(clock),
    dns: new DnsClient(clock),
    https: new HttpsClient(clock),
    addressBook: new AddressBook(() => clock.wallMs()),
  };
}
