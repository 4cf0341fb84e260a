import { chmodSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, jsonLines, tempConfig } from '../helpers/agent-process.js';
import type { IcmpRecord } from './icmp-record.js';
import { classicHops, labContext } from './lab-context.js';

// ICMP without root: the same probes through Linux ping sockets, as uid 65534 with no capability
// (the bounding set emptied: no raw socket is possible), against the raw engine run as root.
const lab = labContext();

type Hop = NonNullable<IcmpRecord['hops']>[number];

const NO_PRIVILEGES = [
  'setpriv',
  '--reuid=65534',
  '--regid=65534',
  '--clear-groups',
  '--inh-caps=-all',
  '--bounding-set=-all',
  '--no-new-privs',
];

type As = 'root' | 'nobody';
const AS: As[] = ['root', 'nobody'];

async function probe(as: As, ...args: string[]): Promise<IcmpRecord[]> {
  const argv = ['probe', ...args, '--json'];
  const out =
    as === 'root'
      ? await lab!.vantage(argv)
      : await lab!.exec(lab!.truth.namespaces.agent, [...NO_PRIVILEGES, process.execPath, BIN, ...argv], 60_000);
  return jsonLines<IcmpRecord>(out.stdout);
}

const path = (hops: Hop[]) => hops.map((h) => h.addresses[0] ?? '*');

// Each probe is a fresh process (about 2 s on a loaded 2-core machine): eight traces need more than 20 s.
describe.skipIf(!lab)(
  'ICMP through ping sockets, without root or capabilities, in the network lab',
  { timeout: 60_000 },
  () => {
    const truth = lab?.truth;
    const agentNs = truth?.namespaces.agent ?? '';
    const sysctl = (value: string) => lab!.exec(agentNs, ['sysctl', '-qw', `net.ipv4.ping_group_range=${value}`]);

    // The sysctl is per network namespace: the host's stays "1 0". Root keeps its raw socket (auto).
    beforeAll(async () => void (await sysctl('0 2147483647')));
    afterAll(async () => void (await sysctl('1 0')));

    it.each(['v4', 'v6'] as const)('ping RTTs (%s) agree with the raw engine within 0.3 ms', async (family) => {
      const target = truth!.hosts.up[0]![family];
      const args = ['icmp', target, '--count', '30', '--spacing', '10ms', '--timeout', '5s'];
      const [raw] = await probe('root', ...args);
      const [datagram] = await probe('nobody', ...args);
      for (const r of [raw, datagram]) expect(r).toMatchObject({ ok: true, sent: 30, received: 30, loss: 0 });
      // Eight kernel routers, no user-space responder: sub-millisecond, so 0.3 ms is a real bound.
      expect(Math.abs(raw!.rttMs!.min - datagram!.rttMs!.min)).toBeLessThan(0.3);
      expect(Math.abs(raw!.rttMs!.median - datagram!.rttMs!.median)).toBeLessThan(0.3);
    });

    it.each(['v4', 'v6'] as const)(
      'traceroute hops (%s) equal traceroute -I -n, errors read from the error queue',
      async (family) => {
        const target = truth!.hosts.up[0]![family];
        const [r] = await probe('nobody', 'traceroute', target);
        const classic = await lab!.exec(agentNs, [
          'traceroute',
          family === 'v6' ? '-6' : '-4',
          ...['-I', '-n', '-q', '1', '-w', '1,0,0', target],
        ]);
        expect(r).toMatchObject({ ok: true, reached: true });
        expect(path(r!.hops!)).toEqual(classicHops(classic.stdout));
        expect(path(r!.hops!)).toEqual([
          ...truth!.hops.map((h, i) => (i + 1 === truth!.silentHop ? '*' : h[family])),
          target,
        ]);
      },
    );

    it('keeps one ECMP branch per trace: the kernel checksums what our payload made constant', async () => {
      const hop = truth!.ecmp.hop;
      const seen = new Set<string>();
      for (let i = 0; i < 8; i++) {
        const [r] = await probe('nobody', 'traceroute', truth!.ecmp.v4, '--probes-per-hop', '3');
        expect(r!.hops![hop - 1]!.addresses).toHaveLength(1);
        seen.add(r!.hops![hop - 1]!.addresses[0]!);
      }
      // The identifier is the engine's and the payload compensates it: every process takes one branch.
      expect(seen.size).toBe(1);
      expect(truth!.ecmp.branches).toContain([...seen][0]);
    });

    it.each(['v4', 'v6'] as const)(
      'unreachable (%s) and TTL exceeded come back as the raw engine reports them',
      async (family) => {
        const [unreachable] = await probe('nobody', 'icmp', truth!.unreachable[family], '--count', '1');
        expect(unreachable).toMatchObject({ ok: false, error: { code: 'ICMP_UNREACHABLE' } });
        expect(unreachable!.error!.message).toContain(`from ${truth!.lastRouter[family]}`);
        const [exceeded] = await probe('nobody', 'icmp', truth!.echo[family], '--count', '1', '--ttl', '3');
        expect(exceeded!.error).toMatchObject({ code: 'ICMP_TTL_EXCEEDED' });
        expect(exceeded!.error!.message).toContain(`at ${truth!.hops[2]![family]}`);
      },
    );

    it.each(AS.flatMap((as) => (['v4', 'v6'] as const).map((family) => [as, family] as const)))(
      'as %s (%s), replies from another address are their own finding with address and RTT, never ICMP_NO_REPLY',
      async (as, family) => {
        const [r] = await probe(as, 'icmp', truth!.otherAddress[family], '--count', '3', '--spacing', '10ms');
        const from = truth!.otherAddress.from[family];
        expect(r).toMatchObject({ ok: false, sent: 3, received: 0, loss: 0, error: { code: 'ICMP_OTHER_ADDRESS' } });
        expect(r!.error!.message).toContain(from);
        expect(r!.otherAddressReplies).toHaveLength(3);
        for (const o of r!.otherAddressReplies) {
          expect(o.from).toBe(from);
          expect(o.rttMs).toBeGreaterThan(0);
          expect(o.rttMs).toBeLessThan(50);
        }
      },
    );

    it('the agent logs the socket it chose and labels vantage_icmp_available with it', async () => {
      const cfg = tempConfig(
        `icmp_socket: auto\ntargets:\n  - {name: up, host: ${truth!.hosts.up[0]!.v4}, ` +
          'checks: [{kind: icmp, count: 1}]}\n',
      );
      chmodSync(cfg.dir, 0o755);
      try {
        // One shell in the namespace: start the agent unprivileged, scrape it on loopback once it is ready
        // (the listener is up before the sockets open, so an earlier scrape has the family but no sample).
        const script =
          `${NO_PRIVILEGES.join(' ')} ${process.execPath} ${BIN} run -c ${cfg.file} --listen 127.0.0.1:19477 ` +
          `> ${cfg.dir}/log 2>&1 & pid=$!; for i in $(seq 150); do curl -sf http://127.0.0.1:19477/readyz ` +
          `>/dev/null && break; sleep 0.1; done; curl -sf http://127.0.0.1:19477/metrics > ${cfg.dir}/metrics; ` +
          `kill $pid; wait $pid; cat ${cfg.dir}/metrics; echo ---; cat ${cfg.dir}/log`;
        const out = await lab!.exec(agentNs, ['sh', '-c', script], 30_000);
        const [metrics, log] = out.stdout.split('---\n');
        expect(metrics).toMatch(/vantage_icmp_available\{[^}]*family="ipv4"[^}]*socket="datagram"[^}]*\} 1/);
        const chosen = jsonLines<{ msg: string; family: string; socket: string }>(log ?? '').find(
          (l) => l.msg === 'ICMP socket' && l.family === 'ipv4',
        );
        expect(chosen).toMatchObject({ socket: 'datagram' });
      } finally {
        cfg.remove();
      }
    });
  },
);
