/** The narrow ports through which checks touch the network; fakes implement them in unit tests. */
import type { CheckFailure } from '../errors.js';
import type { IpFamily, ResolvedAddress } from './address.js';
import type { AddressBook } from './address-book.js';
import type { DnsExchange, DnsQueryRequest } from './dns/dns-client.js';
import type { HttpsExchange, HttpsRequest } from './http/https-client.js';
import type { EchoOutcome, EchoRequest, IcmpEngineStats, IcmpSocketMode } from './icmp/echo.js';

export type { IpFamily, ResolvedAddress } from './address.js';

export interface HostResolver {
  /**
   * Addresses of `host` in the resolver's order (IP literals come back as themselves). Throws a
   * `CheckFailure` with a `DNS_*` code and phase `resolve`.
   */
  resolve(host: string, family: IpFamily, signal: AbortSignal): Promise<ResolvedAddress[]>;
}

export interface TcpConnectRequest {
  ip: string;
  port: number;
  signal: AbortSignal;
  sourceAddress?: string;
}

export interface TcpConnectTiming {
  /** Monotonic stamp right before the SYN was handed to the kernel. */
  startNs: bigint;
  /** Monotonic stamp when the connection was established. */
  connectedNs: bigint;
}

export interface TcpConnector {
  /** Opens and closes one TCP connection. Throws a `CheckFailure` with a `TCP_*` code, phase `connect`. */
  connect(req: TcpConnectRequest): Promise<TcpConnectTiming>;
}

/** The shared ICMP engine, as checks see it (see icmp/icmp-engine.ts). */
export interface IcmpPort {
  echo(request: EchoRequest): Promise<EchoOutcome>;
  /** Engine counters, for the agent's own metrics. */
  stats?(): IcmpEngineStats;
  /** Which ICMP sockets to open (`icmp_socket`), before the first is opened. */
  configure?(mode: IcmpSocketMode): void;
  /** Opens the family's socket now instead of at the first probe; says why it cannot. */
  open?(family: 4 | 6): CheckFailure | null;
  /** Closes the raw sockets (their poll handles would keep the process alive). */
  close?(): void;
}

/** DNS queries over our own transport (see dns/dns-client.ts). */
export interface DnsQueryPort {
  query(request: DnsQueryRequest): Promise<DnsExchange>;
}

export interface NetDeps {
  resolver: HostResolver;
  tcp: TcpConnector;
  icmp: IcmpPort;
  dns: DnsQueryPort;
  https: { exchange(request: HttpsRequest): Promise<HttpsExchange> };
  /** Addresses a target's dns check found, used by its other checks (see address-book.ts). */
  addressBook?: AddressBook;
  /**
   * Settles when the adapters' one-off warm-ups are done; checks wait for it before their first
   * stamp, so a fresh process's cold code is in no phase and no duration. The first caller may name
   * the check kinds it will run: only their adapters are warmed (the others warm at first use); and
   * the hosts they will reach: when every one is an IP literal, the system resolver is not warmed.
   */
  ready?(kinds?: readonly string[], hosts?: readonly string[]): Promise<void>;
}
