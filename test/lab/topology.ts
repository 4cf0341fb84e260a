import { mkdir, rm, writeFile } from 'node:fs/promises';
import {
  BLACKHOLE_LAN,
  ECHO_LAN,
  ECMP_LINKS,
  HOSTS_LAN,
  hostsLanAddresses,
  linkAddress,
  targetAddress,
  targetLan,
  UNREACHABLE_LAN,
} from './plan.js';
import type { LabTruth } from './plan.js';
import { ipBatch, must, run } from './shell.js';

/** Names of every lab namespace start with this, the owner's pid and a letter: `vlab<pid>a-`. */
const PREFIX_BASE = 'vlab';
const PREFIX_RE = new RegExp(`^${PREFIX_BASE}(\\d+)[a-z]*-`);
let labsMade = 0;

/** A prefix no other lab of this process (nor of any live process) uses. */
export function prefixFor(pid: number): string {
  return `${PREFIX_BASE}${pid}${String.fromCharCode(97 + (labsMade++ % 26))}-`;
}

export function allNamespaces(truth: LabTruth): string[] {
  const ns = truth.namespaces;
  return [ns.agent, ...ns.routers, ns.hosts, ns.echo, ns.ecmpA, ns.ecmpB, ns.ecmp];
}

/** Lab namespaces present on the machine, grouped by prefix. */
export async function listLabNamespaces(): Promise<Map<string, string[]>> {
  const out = await must(['ip', 'netns', 'list']);
  const byPrefix = new Map<string, string[]>();
  for (const line of out.split('\n')) {
    const name = line.split(' ')[0] ?? '';
    const m = PREFIX_RE.exec(name);
    if (!m) continue;
    const prefix = m[0];
    byPrefix.set(prefix, [...(byPrefix.get(prefix) ?? []), name]);
  }
  return byPrefix;
}

export function ownerPid(prefix: string): number {
  return Number(PREFIX_RE.exec(prefix)?.[1] ?? 0);
}

/** Kills whatever still runs inside the namespaces (a netns lives on while a process is in it), then deletes them. */
export async function deleteNamespaces(names: readonly string[]): Promise<void> {
  if (names.length === 0) return;
  const pids = await Promise.all(
    names.map(async (n) => (await run(['ip', 'netns', 'pids', n])).stdout.split('\n').filter(Boolean)),
  );
  for (const pid of pids.flat()) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
  await ipBatch(names.map((n) => `netns delete ${n}`)).catch(async () => {
    for (const n of names) await run(['ip', 'netns', 'delete', n]);
  });
  await Promise.all(names.map((n) => rm(`/etc/netns/${n}`, { recursive: true, force: true })));
}

const ROUTER_SYSCTLS = [
  'net.ipv4.ip_forward=1',
  'net.ipv6.conf.all.forwarding=1',
  // Linux rate-limits ICMP errors (about 6 per burst, then 1/s): traceroute tests would flake.
  'net.ipv4.icmp_ratelimit=0',
  'net.ipv4.icmp_msgs_per_sec=100000',
  'net.ipv4.icmp_msgs_burst=100000',
  'net.ipv6.icmp.ratelimit=0',
];

const NO_DAD = ['net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0'];
const HOST_SYSCTLS = ['net.ipv4.icmp_ratelimit=0', 'net.ipv6.icmp.ratelimit=0'];
/** The echo responder answers from user space: the kernel must not answer first. */
const ECHO_SYSCTLS = [...HOST_SYSCTLS, 'net.ipv4.icmp_echo_ignore_all=1', 'net.ipv6.icmp.echo_ignore_all=1'];

/** Builds namespaces, veth links, addresses and routes. Touches nothing outside the lab. */
export async function buildTopology(truth: LabTruth): Promise<void> {
  const { agent, routers, hosts, echo, ecmpA, ecmpB, ecmp } = truth.namespaces;
  const last = routers[routers.length - 1]!;
  const n = routers.length;
  await ipBatch(allNamespaces(truth).map((ns) => `netns add ${ns}`));
  // Before any interface exists: interfaces copy `default` settings when created, and link-local
  // DAD would otherwise hold every first IPv6 packet for about a second.
  await Promise.all(
    allNamespaces(truth).map((ns) => {
      const role =
        ns === agent || ns === hosts || ns === ecmp ? HOST_SYSCTLS : ns === echo ? ECHO_SYSCTLS : ROUTER_SYSCTLS;
      return must(['ip', 'netns', 'exec', ns, 'sysctl', '-q', '-w', ...NO_DAD, ...role]);
    }),
  );

  // Links are created straight into their namespaces, so no interface ever exists in the host's.
  const chain = [agent, ...routers];
  const linkCmds: string[] = [];
  for (let k = 0; k < n; k++)
    linkCmds.push(`link add l${k} netns ${chain[k]} type veth peer name l${k} netns ${chain[k + 1]}`);
  linkCmds.push(`link add t${HOSTS_LAN} netns ${last} type veth peer name t${HOSTS_LAN} netns ${hosts}`);
  linkCmds.push(`link add t${ECHO_LAN} netns ${last} type veth peer name t${ECHO_LAN} netns ${echo}`);
  const L = ECMP_LINKS;
  for (const [lan, left, right] of [
    [L.a, last, ecmpA],
    [L.b, last, ecmpB],
    [L.aTarget, ecmpA, ecmp],
    [L.bTarget, ecmpB, ecmp],
  ] as const) {
    linkCmds.push(`link add t${lan} netns ${left} type veth peer name t${lan} netns ${right}`);
  }
  await ipBatch(linkCmds);

  const perNs = new Map<string, string[]>(allNamespaces(truth).map((ns) => [ns, ['link set lo up']]));
  const add = (ns: string, ...cmds: string[]): void => void perNs.get(ns)!.push(...cmds);
  const addr = (ns: string, dev: string, v4: string, v6: string, len4 = 24, len6 = 64): void =>
    add(ns, `addr add ${v4}/${len4} dev ${dev}`, `addr add ${v6}/${len6} dev ${dev} nodad`, `link set ${dev} up`);

  for (let k = 0; k < n; k++) {
    const left = linkAddress(k, 'left');
    const right = linkAddress(k, 'right');
    addr(chain[k]!, `l${k}`, left.v4, left.v6);
    addr(chain[k + 1]!, `l${k}`, right.v4, right.v6);
  }
  // Towards the targets: everyone's default route points one hop further; routers route the
  // agent's link back. Intermediate links need no routes: only the agent talks to routers.
  add(
    agent,
    `route add default via ${linkAddress(0, 'right').v4}`,
    `route add default via ${linkAddress(0, 'right').v6}`,
  );
  for (let j = 1; j <= n; j++) {
    const ns = chain[j]!;
    if (j < n)
      add(
        ns,
        `route add default via ${linkAddress(j, 'right').v4}`,
        `route add default via ${linkAddress(j, 'right').v6}`,
      );
    if (j > 1) {
      const back = linkAddress(j - 1, 'left');
      add(ns, `route add 198.18.0.0/24 via ${back.v4}`, `route add 2001:db8::/64 via ${back.v6}`);
    }
  }
  for (const [lan, ns] of [
    [HOSTS_LAN, hosts],
    [ECHO_LAN, echo],
  ] as const) {
    const gw = targetAddress(lan, 1);
    const main = targetAddress(lan, lan === HOSTS_LAN ? 2 : 10);
    addr(last, `t${lan}`, gw.v4, gw.v6);
    addr(ns, `t${lan}`, main.v4, main.v6);
    add(ns, `route add default via ${gw.v4}`, `route add default via ${gw.v6}`);
  }
  for (const a of hostsLanAddresses())
    add(hosts, `addr add ${a.v4}/24 dev t${HOSTS_LAN}`, `addr add ${a.v6}/64 dev t${HOSTS_LAN} nodad`);
  // The unreachable and blackhole LANs are routed on to the hosts namespace; on the way, the last
  // router rejects one (ICMP host unreachable, faults.ts) and the hosts namespace drops the other.
  // Not `unreachable`/`blackhole` routes: Linux rate-limits their errors per host with a global
  // sysctl a lab must not touch, and discards blackholed packets before the TTL check.
  const hostsMain = targetAddress(HOSTS_LAN, 2);
  for (const lan of [targetLan(UNREACHABLE_LAN), targetLan(BLACKHOLE_LAN)]) {
    add(last, `route add ${lan.v4} via ${hostsMain.v4}`, `route add ${lan.v6} via ${hostsMain.v6}`);
  }
  addEcmpDiamond(truth, add, addr);
  await Promise.all([...perNs].map(([ns, cmds]) => ipBatch(cmds, ns)));

  // `ip netns exec` bind-mounts /etc/netns/<ns>/resolv.conf: processes in the agent namespace
  // then resolve through the lab's authoritative server, as an agent would through its resolver.
  await mkdir(`/etc/netns/${agent}`, { recursive: true });
  await writeFile(`/etc/netns/${agent}/resolv.conf`, `nameserver ${truth.dns.auth.v4}\noptions timeout:1 attempts:1\n`);
}

/**
 * The diamond's addresses and routes. The last router sends the ECMP target to table 101 (via ea)
 * or 102 (via eb) by the packet mark nft sets from the ICMP checksum (faults.ts); the return path
 * always goes through ea, as asymmetric paths often do.
 */
function addEcmpDiamond(
  truth: LabTruth,
  add: (ns: string, ...cmds: string[]) => void,
  addr: (ns: string, dev: string, v4: string, v6: string) => void,
): void {
  const { routers, ecmpA, ecmpB, ecmp } = truth.namespaces;
  const last = routers[routers.length - 1]!;
  const L = ECMP_LINKS;
  const side = (lan: number, host: number) => targetAddress(lan, host);
  addr(last, `t${L.a}`, side(L.a, 1).v4, side(L.a, 1).v6);
  addr(last, `t${L.b}`, side(L.b, 1).v4, side(L.b, 1).v6);
  addr(ecmpA, `t${L.a}`, side(L.a, 2).v4, side(L.a, 2).v6);
  addr(ecmpB, `t${L.b}`, side(L.b, 2).v4, side(L.b, 2).v6);
  addr(ecmpA, `t${L.aTarget}`, side(L.aTarget, 1).v4, side(L.aTarget, 1).v6);
  addr(ecmpB, `t${L.bTarget}`, side(L.bTarget, 1).v4, side(L.bTarget, 1).v6);
  addr(ecmp, `t${L.aTarget}`, side(L.aTarget, 2).v4, side(L.aTarget, 2).v6);
  addr(ecmp, `t${L.bTarget}`, side(L.bTarget, 2).v4, side(L.bTarget, 2).v6);
  add(ecmp, `addr add ${truth.ecmp.v4}/32 dev lo`, `route add default via ${side(L.aTarget, 1).v4}`);
  for (const [ns, up, down] of [
    [ecmpA, L.a, L.aTarget],
    [ecmpB, L.b, L.bTarget],
  ] as const) {
    add(ns, `route add ${truth.ecmp.v4}/32 via ${side(down, 2).v4}`, `route add 198.18.0.0/24 via ${side(up, 1).v4}`);
  }
  add(
    last,
    `route add ${truth.ecmp.v4}/32 via ${side(L.a, 2).v4}`,
    `route add ${truth.ecmp.v4}/32 via ${side(L.a, 2).v4} table 101`,
    `route add ${truth.ecmp.v4}/32 via ${side(L.b, 2).v4} table 102`,
    'rule add fwmark 1 table 101',
    'rule add fwmark 2 table 102',
  );
}
