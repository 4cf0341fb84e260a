import { describe, expect, it } from 'vitest';
import { jsonLines } from '../helpers/agent-process.js';
import type { IcmpRecord } from './icmp-record.js';
import { labContext } from './lab-context.js';

const lab = labContext();

/** `vantage probe icmp` run inside the lab's agent namespace: real packets through the routers. */
async function probe(target: string, ...settings: string[]): Promise<IcmpRecord[]> {
  return jsonLines<IcmpRecord>((await lab!.vantage(['probe', 'icmp', target, '--json', ...settings])).stdout);
}

describe.skipIf(!lab)('icmp check in the network lab', () => {
  const truth = lab?.truth;

  it.each(['v4', 'v6'] as const)(
    'measures the delayed responder (%s) within 1 ms of the injected delay',
    async (family) => {
      const [r] = await probe(truth!.echo[family], '--count', '20', '--spacing', '20ms', '--timeout', '5s');
      expect(r).toMatchObject({ ok: true, sent: 20, received: 20, loss: 0 });
      // The minimum is what the path adds at best; the median also carries the user-space
      // responder's scheduling jitter when other test files load both cores (bench/icmp.mjs
      // measures the error against packet captures).
      expect(r!.rttMs!.min).toBeGreaterThanOrEqual(truth!.echo.delayMs);
      expect(r!.rttMs!.min - truth!.echo.delayMs).toBeLessThanOrEqual(1);
      expect(r!.rttMs!.median - truth!.echo.delayMs).toBeLessThanOrEqual(5);
    },
  );

  it("measures the lossy address's drop rate over 1,000 packets within 4 points", async () => {
    const [r] = await probe(
      truth!.lossy.v4,
      '--count',
      '1000',
      '--spacing',
      '2ms',
      '--packet-timeout',
      '500ms',
      '--timeout',
      '30s',
    );
    expect(r!.sent).toBe(1000);
    // 4 standard deviations of a binomial over 1,000 packets at 10 %: chance alone fails 1 in 16,000.
    expect(Math.abs(r!.loss - truth!.lossy.lossRate)).toBeLessThan(0.04);
  });

  it.each(['v4', 'v6'] as const)('a silent IP (%s) fails with ICMP_NO_REPLY', async (family) => {
    const [r] = await probe(truth!.hosts.silent[0]![family], '--count', '2', '--packet-timeout', '300ms');
    expect(r).toMatchObject({ ok: false, received: 0, error: { code: 'ICMP_NO_REPLY' } });
  });

  it.each(['v4', 'v6'] as const)(
    'an unreachable destination (%s) fails with ICMP_UNREACHABLE from the last router',
    async (family) => {
      const [r] = await probe(truth!.unreachable[family], '--count', '1');
      expect(r).toMatchObject({ ok: false, error: { code: 'ICMP_UNREACHABLE' } });
      expect(r!.error!.message).toContain(`from ${truth!.lastRouter[family]}`);
    },
  );

  it('a TTL too small for the path fails with ICMP_TTL_EXCEEDED at that hop', async () => {
    const [r] = await probe(truth!.echo.v4, '--count', '1', '--ttl', '3');
    expect(r!.error).toMatchObject({ code: 'ICMP_TTL_EXCEEDED' });
    expect(r!.error!.message).toContain(`at ${truth!.hops[2]!.v4}`);
  });

  it('resolves a name through the lab DNS and pings every address it has', async () => {
    const name = `multi.${truth!.dns.zone}`;
    const records = await probe(name, '--count', '2', '--spacing', '10ms');
    const expected = [...truth!.dns.records[name]!.a, ...truth!.dns.records[name]!.aaaa];
    expect(records.map((r) => r.ip).sort()).toEqual([...expected].sort());
    expect(records.every((r) => r.ok)).toBe(true);
  });

  it('sends small echo requests with DF as Linux ping does, large ones without; dont_fragment: DF on all', async () => {
    const ns = truth!.namespaces.hosts;
    const target = truth!.hosts.main.v4;
    // Counted where the requests arrive: DF set or not, by size (IP length up to 576 or more).
    const table = 'df_count';
    const rule = (df: '!=' | '==', len: '<=' | '>', name: string): string =>
      `ip daddr ${target} icmp type echo-request ip frag-off & 0x4000 ${df} 0 ip length ${len} 576 ` +
      `counter name ${name}`;
    const load = async (): Promise<void> => {
      const ruleset = `table inet ${table} {
  counter small_df {}
  counter small_no_df {}
  counter large_df {}
  counter large_no_df {}
  chain count {
    type filter hook prerouting priority -10; policy accept;
    ${rule('!=', '<=', 'small_df')}
    ${rule('==', '<=', 'small_no_df')}
    ${rule('!=', '>', 'large_df')}
    ${rule('==', '>', 'large_no_df')}
  }
}`;
      await lab!.exec(ns, ['nft', 'delete', 'table', 'inet', table]);
      const r = await lab!.exec(ns, ['sh', '-c', `printf '%s' "$0" | nft -f -`, ruleset]);
      expect(r.code, r.stderr).toBe(0);
    };
    const counts = async (): Promise<Record<string, number>> => {
      const r = await lab!.exec(ns, ['nft', '-j', 'list', 'counters', 'table', 'inet', table]);
      const out = JSON.parse(r.stdout) as { nftables: Array<{ counter?: { name: string; packets: number } }> };
      return Object.fromEntries(out.nftables.flatMap((e) => (e.counter ? [[e.counter.name, e.counter.packets]] : [])));
    };
    try {
      await load();
      const ping = (...settings: string[]): Promise<IcmpRecord[]> =>
        probe(target, '--count', '3', '--spacing', '10ms', ...settings);
      expect((await ping())[0]).toMatchObject({ ok: true, received: 3 });
      expect((await ping('--payload-size', '1000'))[0]).toMatchObject({ ok: true, received: 3 });
      expect(await counts()).toEqual({ small_df: 3, small_no_df: 0, large_df: 0, large_no_df: 3 });
      await load();
      await ping('--dont-fragment', 'true');
      await ping('--dont-fragment', 'true', '--payload-size', '1000');
      expect(await counts()).toEqual({ small_df: 3, small_no_df: 0, large_df: 3, large_no_df: 0 });
    } finally {
      await lab!.exec(ns, ['nft', 'delete', 'table', 'inet', table]);
    }
  });
});
