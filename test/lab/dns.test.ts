import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { jsonLines } from '../helpers/agent-process.js';
import { labContext } from './lab-context.js';

const lab = labContext();

interface DnsRecordOut {
  ok: boolean;
  ip?: string;
  error: { code: string; message: string } | null;
  resolver: string;
  transport: string;
  server: string;
  rcode: string;
  flags: { aa: boolean; tc: boolean; ra: boolean } | null;
  answers: Array<{ type: string; data: string; ttl: number }>;
  cnameChain: string[];
  addresses: string[];
  hijack: { reason: string; expected: string[]; got: string[] } | null;
  durationMs: number;
  phasesMs: Record<string, number>;
}

async function probeDns(name: string, ...settings: string[]): Promise<DnsRecordOut[]> {
  return jsonLines<DnsRecordOut>((await lab!.vantage(['probe', 'dns', name, '--json', ...settings], 30_000)).stdout);
}

describe.skipIf(!lab)('dns check in the network lab', () => {
  const truth = lab?.truth;
  const dns = truth?.dns;
  const zone = (n: string) => `${n}.${dns!.zone}`;

  it('gets the designed answers from the authoritative server, flags and TTLs included', async () => {
    const [a] = await probeDns(zone('multi'), '--resolver', dns!.auth.v4);
    expect(a).toMatchObject({
      ok: true,
      transport: 'udp',
      server: `${dns!.auth.v4}:53`,
      rcode: 'NOERROR',
      flags: { aa: true, tc: false },
    });
    expect([...a!.addresses].sort()).toEqual([...dns!.records[zone('multi')]!.a].sort());
    expect(a!.answers.every((r) => r.ttl === 300)).toBe(true);
    const [aaaa] = await probeDns(zone('multi'), '--resolver', `[${dns!.auth.v6}]:53`, '--type', 'AAAA');
    expect([...aaaa!.addresses].sort()).toEqual([...dns!.records[zone('multi')]!.aaaa].sort());
  });

  it('follows the CNAME chain', async () => {
    const [r] = await probeDns(zone('alias'), '--resolver', dns!.auth.v4);
    expect(r!.cnameChain).toEqual([zone('alias'), zone('alias2'), zone('web')]);
    expect(r!.addresses).toEqual([truth!.https.v4]);
  });

  it('retries a truncated answer over TCP and gets all of it', async () => {
    const [r] = await probeDns(dns!.bigName, '--resolver', dns!.auth.v4);
    expect(r).toMatchObject({ ok: true, transport: 'tcp', rcode: 'NOERROR' });
    expect(r!.addresses).toHaveLength(dns!.records[dns!.bigName]!.a.length);
    expect(r!.phasesMs.udp).toBeGreaterThan(0);
  });

  it.each([
    ['tcp', (a: string) => `tcp://${a}`],
    ['tls', (a: string) => `tls://${a}#${lab!.truth.dns.tlsName}`],
    ['https', (_address: string) => `https://${lab!.truth.dns.tlsName}${lab!.truth.dns.dohPath}`],
  ])('asks over %s', async (transport, resolver) => {
    const [r] = await probeDns(zone('web'), '--resolver', resolver(dns!.auth.v4), '--ca-file', truth!.https.caFile);
    expect(r).toMatchObject({ ok: true, transport, addresses: [truth!.https.v4] });
  });

  it('reports NXDOMAIN and SERVFAIL with their codes', async () => {
    const [nx] = await probeDns(dns!.nxName, '--resolver', dns!.auth.v4);
    expect(nx).toMatchObject({ ok: false, rcode: 'NXDOMAIN', error: { code: 'DNS_NXDOMAIN' } });
    const [sf] = await probeDns(dns!.servfailName, '--resolver', dns!.auth.v4);
    expect(sf).toMatchObject({ ok: false, rcode: 'SERVFAIL', error: { code: 'DNS_RCODE' } });
  });

  it('catches the hijacking resolver: answers out of the expected range, disagreement with the reference', async () => {
    const [outside] = await probeDns(
      dns!.hijackedNames[0]!,
      '--resolver',
      dns!.hijack.v4,
      '--expect',
      `${truth!.https.v4}/32`,
    );
    expect(outside).toMatchObject({
      ok: false,
      error: { code: 'DNS_HIJACK_UNEXPECTED_ANSWER' },
      hijack: { reason: 'unexpected_answer', expected: [`${truth!.https.v4}/32`], got: [dns!.hijackAddress.v4] },
    });
    const records = await probeDns(
      dns!.hijackedNames[0]!,
      '--resolver',
      `[${dns!.auth.v4},${dns!.hijack.v4}]`,
      '--hijack',
      `{reference: "${dns!.auth.v4}"}`,
    );
    const byResolver = Object.fromEntries(records.map((r) => [r.resolver, r]));
    expect(byResolver[dns!.auth.v4]).toMatchObject({ ok: true, hijack: null });
    expect(byResolver[dns!.hijack.v4]).toMatchObject({
      ok: false,
      error: { code: 'DNS_HIJACK_DISAGREEMENT' },
      hijack: { reason: 'resolver_disagreement', expected: [truth!.https.v4], got: [dns!.hijackAddress.v4] },
    });
  });

  it('catches NXDOMAIN rewriting with a random label, not on the honest server', async () => {
    const [rewritten] = await probeDns(
      zone('multi'),
      '--resolver',
      dns!.hijack.v4,
      '--hijack',
      '{nxdomain_probe: true}',
    );
    expect(rewritten).toMatchObject({
      ok: false,
      error: { code: 'DNS_HIJACK_NXDOMAIN_REWRITE' },
      hijack: { reason: 'nxdomain_rewrite', got: [dns!.hijackAddress.v4] },
    });
    expect(rewritten!.hijack!.expected[0]).toMatch(/^NXDOMAIN for vantage-nx-[0-9a-f]{8}\.multi\.lab\.test$/);
    const [honest] = await probeDns(zone('multi'), '--resolver', dns!.auth.v4, '--hijack', '{nxdomain_probe: true}');
    expect(honest).toMatchObject({ ok: true, hijack: null });
  });

  it('flags bogon answers for a name declared public', async () => {
    const [r] = await probeDns(zone('web'), '--resolver', dns!.auth.v4, '--hijack', '{bogons: true}');
    expect(r).toMatchObject({ ok: false, error: { code: 'DNS_HIJACK_BOGON' }, hijack: { reason: 'bogon_answer' } });
  });

  it('times the silent resolver out at the configured timeout', async () => {
    const [r] = await probeDns(zone('web'), '--resolver', dns!.silent.v4, '--timeout', '700ms');
    expect(r).toMatchObject({ ok: false, error: { code: 'DNS_TIMEOUT' } });
    expect(r!.durationMs).toBeGreaterThanOrEqual(695);
    expect(r!.durationMs).toBeLessThan(900);
  });

  it("times the delayed name at its delay plus the path (a server timer's lateness aside)", async () => {
    const [slow] = await probeDns(dns!.slowName, '--resolver', dns!.auth.v4);
    // Causal: the query is stamped before it is sent and the lab answers at least the delay later.
    expect(slow!.phasesMs.request).toBeGreaterThanOrEqual(dns!.slowDelayMs);
    // Path ~0.2 ms plus the lab server's timer lateness (~1 ms quiet, 12 ms seen with both cores
    // busy): a generous bound here, bench/dns.mjs compares the exact figure with dig's.
    expect(slow!.phasesMs.request! - dns!.slowDelayMs).toBeLessThan(50);
  });

  it('asks the system resolver (the agent namespace resolves through the lab)', async () => {
    const [r] = await probeDns(zone('web'));
    expect(r).toMatchObject({ ok: true, resolver: 'system', addresses: [truth!.https.v4] });
  });

  it('cache-busts with a random label and accepts its NXDOMAIN', async () => {
    const [r] = await probeDns(zone('web'), '--resolver', dns!.auth.v4, '--cache-bust', 'true');
    expect(r).toMatchObject({ ok: true, rcode: 'NXDOMAIN' });
  });
});

describe.skipIf(!lab)("dns answers feed the target's other checks", () => {
  it('the icmp check of a target probes exactly the addresses its dns check found', async () => {
    const { truth } = lab!;
    const name = `multi.${truth.dns.zone}`;
    const config = `targets:
  - name: multi
    host: ${name}
    checks:
      - {kind: dns, resolver: "${truth.dns.auth.v4}"}
      - {kind: icmp, ip_family: ipv4, count: 1}
`;
    const file = `${tmpdir()}/vantage-feed-${process.pid}.yaml`;
    writeFileSync(file, config);
    try {
      const out = await lab!.vantage(['once', '-c', file, '--json'], 30_000);
      const records = jsonLines<{ kind: string; ip?: string; ok: boolean; addressSource?: string }>(out.stdout);
      const icmp = records.filter((r) => r.kind === 'icmp');
      expect(icmp.map((r) => r.ip).sort()).toEqual([...truth.dns.records[name]!.a].sort());
      expect(icmp.every((r) => r.ok && r.addressSource === `dns check multi-dns via ${truth.dns.auth.v4}`)).toBe(true);
    } finally {
      rmSync(file, { force: true });
    }
  });
});
