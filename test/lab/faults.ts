import { BLACKHOLE_LAN, targetLan, UNREACHABLE_LAN } from './plan.js';
import type { LabTruth } from './plan.js';
import { must } from './shell.js';

/** The packet mark of the slow router's late Time Exceeded (slow-time-exceeded.py sets it). */
export const SLOW_HOP_MARK = 0x5;

/** nftables rulesets that make the lab's faults; one table per namespace, loaded atomically. */
export async function applyFaults(truth: LabTruth): Promise<void> {
  const { routers, hosts } = truth.namespaces;
  const jobs: Array<Promise<string>> = [];
  if (truth.silentHop > 0) {
    // A router that forwards but never says "time exceeded": traceroute shows `*` at its hop.
    jobs.push(
      load(
        routers[truth.silentHop - 1]!,
        `
table inet lab {
  chain lab_output {
    type filter hook output priority 0; policy accept;
    icmp type time-exceeded drop
    icmpv6 type time-exceeded drop
  }
}`,
      ),
    );
  }
  if (truth.slowHop.hop > 0) {
    // The slow router's own errors are dropped; slow-time-exceeded.py sends them late, marked.
    jobs.push(
      load(
        routers[truth.slowHop.hop - 1]!,
        `
table inet lab {
  chain lab_output {
    type filter hook output priority 0; policy accept;
    meta mark != ${SLOW_HOP_MARK} icmp type time-exceeded drop
    meta mark != ${SLOW_HOP_MARK} icmpv6 type time-exceeded drop
  }
}`,
      ),
    );
  }
  const silent = [...truth.hosts.silent, truth.dns.silent];
  // Addresses that resolve but never answer: everything sent to them is dropped on arrival; the
  // blackhole LAN, routed here by the last router, vanishes without an ICMP error; and one address
  // answers pings from another (a stateless source rewrite, as a misconfigured NAT would).
  jobs.push(
    load(
      hosts,
      `
table inet lab {
  chain lab_prerouting {
    type filter hook prerouting priority 0; policy accept;
    ip daddr { ${silent.map((a) => a.v4).join(', ')} } drop
    ip6 daddr { ${silent.map((a) => a.v6).join(', ')} } drop
    ip daddr ${targetLan(BLACKHOLE_LAN).v4} drop
    ip6 daddr ${targetLan(BLACKHOLE_LAN).v6} drop
  }
  chain lab_output {
    type filter hook output priority 0; policy accept;
    ip saddr ${truth.otherAddress.v4} icmp type echo-reply ip saddr set ${truth.otherAddress.from.v4}
    ip6 saddr ${truth.otherAddress.v6} icmpv6 type echo-reply ip6 saddr set ${truth.otherAddress.from.v6}
  }
}`,
    ),
  );
  // Random loss towards one address on the last link, per packet (numgen random); and the ECMP
  // choice: a hash of the ICMP checksum marks the packet for one branch of the diamond.
  const permille = Math.round(truth.lossy.lossRate * 1000);
  jobs.push(
    load(
      routers[routers.length - 1]!,
      `
table inet lab {
  chain lab_forward {
    type filter hook forward priority 0; policy accept;
    ip daddr ${truth.lossy.v4} numgen random mod 1000 < ${permille} drop
    ip6 daddr ${truth.lossy.v6} numgen random mod 1000 < ${permille} drop
    ip daddr ${targetLan(UNREACHABLE_LAN).v4} reject with icmp type host-unreachable
    ip6 daddr ${targetLan(UNREACHABLE_LAN).v6} reject with icmpv6 type addr-unreachable
  }
  chain lab_ecmp {
    type filter hook prerouting priority mangle; policy accept;
    ip daddr ${truth.ecmp.v4} meta mark set jhash icmp checksum mod 2 offset 1
  }
}`,
    ),
  );
  await Promise.all(jobs);
}

function load(ns: string, ruleset: string): Promise<string> {
  return must(['ip', 'netns', 'exec', ns, 'nft', '-f', '-'], ruleset);
}
