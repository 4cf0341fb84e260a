/**
 * The lab's address plan and ground truth, as pure data: what `up()` builds and what tests assert
 * against. Only 198.18.0.0/15 and 2001:db8::/32 are used.
 *
 *   agent --link0-- r1 --link1-- r2 ... rN --+-- hosts   (198.19.1.0/24: web, DNS, up/silent IPs)
 *                                            +-- echo    (198.19.2.0/24: delayed user-space responder)
 *   rN rejects 198.19.3.0/24 with ICMP host unreachable, and 198.19.4.0/24 goes into silence
 *   (dropped in the hosts namespace).
 *
 *   ECMP diamond (IPv4): rN --lan8-- ea --lan10--+
 *                        rN --lan9-- eb --lan11--+-- ecmp (198.19.7.10 on its loopback)
 *   rN picks ea or eb per packet by a hash of the ICMP checksum (nft jhash + fwmark routing), as
 *   load balancers hash the first bytes of the transport header.
 */

export interface LabSpec {
  /** Router namespaces between agent and targets. Default 8. */
  routers?: number;
  /** 1-based router (= traceroute hop) that sends no Time Exceeded. Default 5; 0 for none. */
  silentHop?: number;
  /**
   * 1-based router whose Time Exceeded leaves `slowHopDelayMs` late (user space, slow-time-exceeded.py).
   * Default 0: none.
   */
  slowHop?: number;
  /** How late the slow router's Time Exceeded leaves, ms. Default 30. */
  slowHopDelayMs?: number;
  /** Delay the echo responder adds before each reply, ms. Default 20. */
  echoDelayMs?: number;
  /** Fraction of echo requests the responder ignores. Default 0. */
  echoDropRate?: number;
  /** Fraction of packets to the lossy address dropped at rN (nft numgen). Default 0.1. */
  lossRate?: number;
  /** Delay of the authoritative server's answer for the slow name, ms. Default 200. */
  dnsDelayMs?: number;
}

type ResolvedSpec = Required<LabSpec>;

export function resolveSpec(spec: LabSpec = {}): ResolvedSpec {
  const resolved = {
    routers: spec.routers ?? 8,
    silentHop: spec.silentHop ?? 5,
    slowHop: spec.slowHop ?? 0,
    slowHopDelayMs: spec.slowHopDelayMs ?? 30,
    echoDelayMs: spec.echoDelayMs ?? 20,
    echoDropRate: spec.echoDropRate ?? 0,
    lossRate: spec.lossRate ?? 0.1,
    dnsDelayMs: spec.dnsDelayMs ?? 200,
  };
  if (resolved.routers < 1 || resolved.routers > 30) throw new Error('routers must be 1..30');
  if (resolved.silentHop < 0 || resolved.silentHop > resolved.routers) throw new Error('silentHop must be 0..routers');
  if (
    resolved.slowHop < 0 ||
    resolved.slowHop > resolved.routers ||
    (resolved.slowHop && resolved.slowHop === resolved.silentHop)
  )
    throw new Error('slowHop must be 0..routers, not the silent hop');
  return resolved;
}

interface DualStack {
  v4: string;
  v6: string;
}

/** RFC 5952 text form (what ping, traceroute and dig print), via the URL parser's normalisation. */
function canonicalV6(address: string): string {
  return new URL(`http://[${address}]/`).hostname.slice(1, -1);
}

/** Link k joins node k (agent when k = 0, else router k) and router k + 1. */
export function linkAddress(k: number, side: 'left' | 'right'): DualStack {
  const host = side === 'left' ? 1 : 2;
  return { v4: `198.18.${k}.${host}`, v6: canonicalV6(`2001:db8:0:${k.toString(16)}::${host}`) };
}

/** Target LAN t hangs off the last router: 198.19.t.0/24 and 2001:db8:1:t::/64. */
export function targetAddress(t: number, host: number): DualStack {
  return { v4: `198.19.${t}.${host}`, v6: canonicalV6(`2001:db8:1:${t.toString(16)}::${host.toString(16)}`) };
}

/** The prefixes of target LAN t. */
export function targetLan(t: number): DualStack {
  return { v4: `198.19.${t}.0/24`, v6: `2001:db8:1:${t.toString(16)}::/64` };
}

const ZONE = 'lab.test';
export const HOSTS_LAN = 1;
export const ECHO_LAN = 2;
export const UNREACHABLE_LAN = 3;
export const BLACKHOLE_LAN = 4;
const ECMP_TARGET_LAN = 7;
/** Links of the diamond: rN-ea, rN-eb, ea-ecmp, eb-ecmp. */
export const ECMP_LINKS = { a: 8, b: 9, aTarget: 10, bTarget: 11 } as const;

/** Host parts on the hosts LAN. */
const HOST = {
  gateway: 1,
  main: 2,
  web: 10,
  up: [21, 22, 23],
  silent: [31, 32, 33, 34],
  lossy: 40,
  otherAddress: 60,
  dnsAuth: 53,
  dnsHijack: 54,
  dnsSilent: 55,
} as const;

/** Where the hijacking resolver sends hijacked names and rewritten NXDOMAINs. */
const HIJACK_ADDRESS: DualStack = { v4: '198.19.6.66', v6: '2001:db8:1:6::66' };

interface DnsRecordSet {
  a: string[];
  aaaa: string[];
  /** CNAME target, when the name is an alias. */
  cname?: string;
}

export interface LabTruth {
  prefix: string;
  spec: ResolvedSpec;
  namespaces: {
    agent: string;
    routers: string[];
    hosts: string;
    echo: string;
    ecmpA: string;
    ecmpB: string;
    ecmp: string;
  };
  agent: DualStack;
  /** Router j's address as traceroute shows it (its agent-facing side), hop j = index + 1. */
  hops: DualStack[];
  silentHop: number;
  /** The router (hop) whose Time Exceeded leaves `delayMs` late; hop 0: none. */
  slowHop: { hop: number; delayMs: number };
  lastRouter: DualStack;
  echo: DualStack & { delayMs: number; dropRate: number };
  hosts: { main: DualStack; up: DualStack[]; silent: DualStack[] };
  lossy: DualStack & { lossRate: number };
  /** Echo replies to this address leave the hosts namespace with `from` as their source (nft, faults.ts). */
  otherAddress: DualStack & { from: DualStack };
  unreachable: DualStack;
  blackhole: DualStack;
  /** Behind the diamond: hop `hop` is one of `branches` depending on the probe's ICMP checksum. */
  ecmp: { v4: string; hop: number; branches: string[] };
  dns: {
    zone: string;
    auth: DualStack;
    hijack: DualStack;
    silent: DualStack;
    port: number;
    records: Record<string, DnsRecordSet>;
    nxName: string;
    servfailName: string;
    slowName: string;
    slowDelayMs: number;
    /** Answers exceed any UDP size a client may offer: the server sets TC, clients retry on TCP. */
    bigName: string;
    /** Names the hijacking resolver answers with HIJACK_ADDRESS instead of the real records. */
    hijackedNames: string[];
    hijackAddress: DualStack;
    /**
     * The authoritative server also speaks DoT (port 853) and DoH (https://…/dns-query, port 443)
     * under this name.
     */
    tlsName: string;
    dotPort: number;
    dohPath: string;
  };
  https: DualStack & {
    name: string;
    wrongName: string;
    ports: { valid: number; expired: number; wrongName: number };
    /** Lab CA certificate (PEM file path): trust it to verify the valid certificate. */
    caFile: string;
  };
}

export function labTruth(prefix: string, spec: ResolvedSpec, caFile: string): LabTruth {
  const hostsAddr = (h: number): DualStack => targetAddress(HOSTS_LAN, h);
  const web = hostsAddr(HOST.web);
  const up = HOST.up.map(hostsAddr);
  const silent = HOST.silent.map(hostsAddr);
  const big = Array.from({ length: 100 }, (_, i) => `198.19.5.${i + 1}`);
  const records: Record<string, DnsRecordSet> = {
    [`web.${ZONE}`]: { a: [web.v4], aaaa: [web.v6] },
    [`multi.${ZONE}`]: { a: up.map((a) => a.v4), aaaa: up.slice(0, 2).map((a) => a.v6) },
    [`echo.${ZONE}`]: { a: [targetAddress(ECHO_LAN, 10).v4], aaaa: [targetAddress(ECHO_LAN, 10).v6] },
    [`silent.${ZONE}`]: { a: [silent[0]!.v4], aaaa: [silent[0]!.v6] },
    // First record silent, then a mix: for the "trace only when the first A fails, at most three" rules.
    [`partial.${ZONE}`]: {
      a: [silent[0]!.v4, up[0]!.v4, silent[1]!.v4, silent[2]!.v4, silent[3]!.v4],
      aaaa: [silent[0]!.v6, up[0]!.v6],
    },
    // Only the first record silent: its trace alone. Three silent of five: three traces.
    [`firstsilent.${ZONE}`]: { a: [silent[0]!.v4, up[0]!.v4, up[1]!.v4], aaaa: [up[0]!.v6] },
    [`threeoffive.${ZONE}`]: {
      a: [silent[0]!.v4, up[0]!.v4, silent[1]!.v4, up[1]!.v4, silent[2]!.v4],
      aaaa: [up[0]!.v6],
    },
    // First record answers, a later one is silent: a failure that must NOT trigger a trace.
    [`mixed.${ZONE}`]: { a: [up[1]!.v4, silent[1]!.v4], aaaa: [up[1]!.v6, silent[1]!.v6] },
    [`unreachable.${ZONE}`]: {
      a: [targetAddress(UNREACHABLE_LAN, 10).v4],
      aaaa: [targetAddress(UNREACHABLE_LAN, 10).v6],
    },
    [`blackhole.${ZONE}`]: { a: [targetAddress(BLACKHOLE_LAN, 10).v4], aaaa: [targetAddress(BLACKHOLE_LAN, 10).v6] },
    [`lossy.${ZONE}`]: { a: [hostsAddr(HOST.lossy).v4], aaaa: [hostsAddr(HOST.lossy).v6] },
    [`alias.${ZONE}`]: { a: [web.v4], aaaa: [web.v6], cname: `alias2.${ZONE}` },
    [`alias2.${ZONE}`]: { a: [web.v4], aaaa: [web.v6], cname: `web.${ZONE}` },
    [`slow.${ZONE}`]: { a: [web.v4], aaaa: [web.v6] },
    // The authoritative server's own name, for DoT/DoH certificates and URLs.
    [`dns.${ZONE}`]: { a: [hostsAddr(HOST.dnsAuth).v4], aaaa: [hostsAddr(HOST.dnsAuth).v6] },
    [`big.${ZONE}`]: { a: big, aaaa: [] },
  };
  return {
    prefix,
    spec,
    namespaces: {
      agent: `${prefix}agent`,
      routers: Array.from({ length: spec.routers }, (_, i) => `${prefix}r${i + 1}`),
      hosts: `${prefix}hosts`,
      echo: `${prefix}echo`,
      ecmpA: `${prefix}ea`,
      ecmpB: `${prefix}eb`,
      ecmp: `${prefix}ecmp`,
    },
    agent: linkAddress(0, 'left'),
    hops: Array.from({ length: spec.routers }, (_, i) => linkAddress(i, 'right')),
    silentHop: spec.silentHop,
    slowHop: { hop: spec.slowHop, delayMs: spec.slowHopDelayMs },
    lastRouter: linkAddress(spec.routers - 1, 'right'),
    echo: { ...targetAddress(ECHO_LAN, 10), delayMs: spec.echoDelayMs, dropRate: spec.echoDropRate },
    hosts: { main: hostsAddr(HOST.main), up, silent },
    lossy: { ...hostsAddr(HOST.lossy), lossRate: spec.lossRate },
    otherAddress: { ...hostsAddr(HOST.otherAddress), from: hostsAddr(HOST.main) },
    unreachable: targetAddress(UNREACHABLE_LAN, 10),
    blackhole: targetAddress(BLACKHOLE_LAN, 10),
    ecmp: {
      v4: targetAddress(ECMP_TARGET_LAN, 10).v4,
      hop: spec.routers + 1,
      branches: [targetAddress(ECMP_LINKS.a, 2).v4, targetAddress(ECMP_LINKS.b, 2).v4],
    },
    dns: {
      zone: ZONE,
      auth: hostsAddr(HOST.dnsAuth),
      hijack: hostsAddr(HOST.dnsHijack),
      silent: hostsAddr(HOST.dnsSilent),
      port: 53,
      records,
      nxName: `nonexistent.${ZONE}`,
      servfailName: `servfail.${ZONE}`,
      slowName: `slow.${ZONE}`,
      slowDelayMs: spec.dnsDelayMs,
      bigName: `big.${ZONE}`,
      hijackedNames: [`web.${ZONE}`],
      hijackAddress: HIJACK_ADDRESS,
      tlsName: `dns.${ZONE}`,
      dotPort: 853,
      dohPath: '/dns-query',
    },
    https: {
      ...web,
      name: `web.${ZONE}`,
      wrongName: `wrong.${ZONE}`,
      ports: { valid: 443, expired: 8443, wrongName: 9443 },
      caFile,
    },
  };
}

/** Every address configured on the hosts namespace's LAN interface (besides .2). */
export function hostsLanAddresses(): DualStack[] {
  const hosts = [
    HOST.web,
    ...HOST.up,
    ...HOST.silent,
    HOST.lossy,
    HOST.otherAddress,
    HOST.dnsAuth,
    HOST.dnsHijack,
    HOST.dnsSilent,
  ];
  return hosts.map((h) => targetAddress(HOSTS_LAN, h));
}
