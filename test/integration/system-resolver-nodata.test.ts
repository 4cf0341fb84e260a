import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN } from '../helpers/agent-process.js';

/**
 * The system resolver (getaddrinfo) telling NODATA from NXDOMAIN, for real: a network and mount
 * namespace of our own whose /etc/resolv.conf names a dns2 server on its 127.0.0.1:53. The server
 * answers like a recursive resolver (RA set, the zone's SOA with an empty answer): glibc turns an
 * answer without RA into EAI_AGAIN. Every vantage run happens inside that namespace, which ends
 * with the script (the server is killed by its trap, even on failure).
 */
const root = process.getuid?.() === 0;

const ZONE_SERVER = `
import dns2 from ${JSON.stringify(createRequire(import.meta.url).resolve('dns2'))};
const { Packet } = dns2;
const zone = { 'v4only.test': { A: ['127.0.0.1'] }, 'mxonly.test': {} };
const server = dns2.createServer({ udp: true, handle: (request, send) => {
  const response = Packet.createResponseFromRequest(request);
  response.header.ra = 1;
  const [q] = request.questions;
  const records = zone[q.name.toLowerCase()];
  if (!records) response.header.rcode = 3;
  for (const address of (q.type === Packet.TYPE.A ? records?.A : undefined) ?? [])
    response.answers.push({ name: q.name, type: Packet.TYPE.A, class: Packet.CLASS.IN, ttl: 60, address });
  response.authorities.push({ name: 'test', type: Packet.TYPE.SOA, class: Packet.CLASS.IN, ttl: 60,
    primary: 'ns.test', admin: 'admin.test', serial: 1, refresh: 60, retry: 60, expiration: 60, minimum: 60 });
  send(response);
}});
server.on('listening', () => console.log('ready'));
server.listen({ udp: { port: 53, address: '127.0.0.1', type: 'udp4' } });
`;

const RUNS: Record<string, string[]> = {
  aaaaOfV4Only: ['probe', 'dns', 'v4only.test', '--type', 'AAAA', '--json'],
  aaaaOfV4OnlyMinZero: ['probe', 'dns', 'v4only.test', '--type', 'AAAA', '--min-answers', '0', '--json'],
  aaaaOfMissing: ['probe', 'dns', 'missing.test', '--type', 'AAAA', '--json'],
  aOfMxOnly: ['probe', 'dns', 'mxonly.test', '--json'],
  tcpOverIpv6: ['probe', 'tcp', 'v4only.test:9', '--ip-family', 'ipv6', '--json'],
  diagnose: ['diagnose', 'v4only.test', '--traceroute', 'never', '--count', '1', '--timeout', '2s'],
};

let dir = '';
const outputs = new Map<string, string>();

beforeAll(async () => {
  if (!root) return;
  dir = mkdtempSync(join(tmpdir(), 'vantage-nodata-'));
  writeFileSync(join(dir, 'zone.mjs'), ZONE_SERVER);
  writeFileSync(join(dir, 'resolv.conf'), 'nameserver 127.0.0.1\noptions timeout:2 attempts:1\n');
  const q = (s: string): string => `'${s.replaceAll("'", "'\\''")}'`;
  const script = [
    'set -e',
    'ip link set lo up',
    `mount --bind ${q(join(dir, 'resolv.conf'))} /etc/resolv.conf`,
    `${q(process.execPath)} ${q(join(dir, 'zone.mjs'))} > ${q(join(dir, 'zone.log'))} 2>&1 & SERVER=$!`,
    'trap "kill $SERVER" EXIT',
    `for i in $(seq 50); do grep -q ready ${q(join(dir, 'zone.log'))} && break; sleep 0.1; done`,
    ...Object.entries(RUNS).map(
      ([name, args]) => `echo '### ${name}'; ${q(process.execPath)} ${q(BIN)} ${args.map(q).join(' ')} || true`,
    ),
  ].join('\n');
  const { stdout } = await promisify(execFile)('unshare', ['--net', '--mount', '--fork', 'sh', '-c', script], {
    timeout: 60_000,
  });
  for (const part of stdout.split('### ').slice(1)) {
    const newline = part.indexOf('\n');
    outputs.set(part.slice(0, newline), part.slice(newline + 1));
  }
}, 90_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

type DnsRecord = Record<string, unknown> & { phasesMs: Record<string, number>; durationMs: number };
const record = (name: string): DnsRecord => JSON.parse(outputs.get(name) ?? '{}') as DnsRecord;

describe.skipIf(!root)('system resolver: NODATA is not NXDOMAIN (a namespace with its own resolv.conf)', () => {
  it('a name with A records only, asked AAAA: DNS_NO_DATA "no AAAA records", not DNS_NAME_NOT_FOUND', () => {
    const r = record('aaaaOfV4Only');
    expect(r).toMatchObject({ ok: false, resolver: 'system', queryType: 'AAAA', answers: [] });
    expect(r.error).toMatchObject({ code: 'DNS_NO_DATA', message: expect.stringContaining('no AAAA records') });
  });

  it('the same with min_answers 0: ok, an empty answer', () => {
    expect(record('aaaaOfV4OnlyMinZero')).toMatchObject({ ok: true, rcode: 'NOERROR', answers: [], addresses: [] });
  });

  it('a name that does not exist: DNS_NAME_NOT_FOUND still', () => {
    expect(record('aaaaOfMissing')).toMatchObject({ ok: false, error: { code: 'DNS_NAME_NOT_FOUND' } });
  });

  it('a name with no address of either family: DNS_NO_DATA, learnt from the resolver (c-ares)', () => {
    expect(record('aOfMxOnly')).toMatchObject({ ok: false, error: { code: 'DNS_NO_DATA' } });
  });

  it('a per-IP check over IPv6 of that name: DNS_NO_ADDRESS (the name exists), not DNS_NAME_NOT_FOUND', () => {
    expect(record('tcpOverIpv6')).toMatchObject({ ok: false, error: { code: 'DNS_NO_ADDRESS', phase: 'resolve' } });
  });

  it('each record keeps the invariants: phases >= 0, their sum within durationMs', () => {
    for (const name of ['aaaaOfV4Only', 'aaaaOfV4OnlyMinZero', 'aaaaOfMissing', 'aOfMxOnly', 'tcpOverIpv6']) {
      const { phasesMs, durationMs } = record(name);
      const phases = Object.values(phasesMs);
      expect(phases.every((p) => p >= 0)).toBe(true);
      expect(phases.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(durationMs + 1e-6);
    }
  });

  it('diagnose says "IPv4 only" and shows the AAAA lookup as an answer, not a failure', () => {
    const text = outputs.get('diagnose') ?? '';
    expect(text.split('\n')[0]).toContain('DNS ok via 1 resolver (system), 1 IP, IPv4 only');
    expect(text).toMatch(/OK {3}system AAAA no AAAA records/);
    expect(text).not.toContain('DNS_NAME_NOT_FOUND');
  });
});
