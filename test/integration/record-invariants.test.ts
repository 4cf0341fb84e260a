import { createSocket } from 'node:dgram';
import type { Socket as UdpSocket } from 'node:dgram';
import { once } from 'node:events';
import { readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:https';
import type { Server } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonLines, vantage } from '../helpers/agent-process.js';
import { makeWebCerts } from '../helpers/web-certs.js';
import type { WebCerts } from '../helpers/web-certs.js';

/**
 * Every kind's record, from a fresh `vantage probe` process (the cold path issue 17 is about),
 * against real loopback targets: each phase >= 0, the sequential phases sum to at most durationMs
 * (https's `total` is the duration itself, not a phase in the sum), and that is all one IP's.
 */
const root = process.getuid?.() === 0;

let certs: WebCerts;
let web: Server;
let dns: UdpSocket;
let silent: UdpSocket;
let webPort = 0;
let dnsPort = 0;

beforeAll(async () => {
  certs = makeWebCerts();
  web = createServer({ cert: readFileSync(certs.server.cert), key: readFileSync(certs.server.key) }, (_q, res) =>
    res.end('ok'),
  );
  web.listen(0, '127.0.0.1');
  // Answers every question with itself as a NOERROR response after 20 ms: a slow resolver.
  dns = createSocket('udp4').on('message', (msg, from) => {
    const reply = Buffer.from(msg);
    reply[2] = (reply[2] ?? 0) | 0x80;
    setTimeout(() => dns.send(reply, from.port, from.address), 20);
  });
  dns.bind(0, '127.0.0.1');
  silent = createSocket('udp4');
  silent.bind(0, '127.0.0.1');
  await Promise.all([once(web, 'listening'), once(dns, 'listening'), once(silent, 'listening')]);
  webPort = (web.address() as { port: number }).port;
  dnsPort = dns.address().port;
});

afterAll(() => {
  web?.close();
  dns?.close();
  silent?.close();
  if (certs) rmSync(certs.dir, { recursive: true, force: true });
});

interface Rec {
  kind: string;
  durationMs: number;
  phasesMs: Record<string, number>;
}

/** Phases that follow one another in the run (not `total`, which spans them). */
const sequential = (r: Rec): number[] =>
  Object.entries(r.phasesMs)
    .filter(([name]) => name !== 'total')
    .map(([, ms]) => ms);

const CASES: Array<[string, () => string[], boolean]> = [
  ['tcp', () => ['tcp', `127.0.0.1:${webPort}`], true],
  ['https', () => ['https', `https://localhost:${webPort}/`, '--ca-file', certs.ca], true],
  ['dns over udp', () => ['dns', 'slow.example', '--resolver', `127.0.0.1:${dnsPort}`, '--min-answers', '0'], true],
  ['dns via the system resolver', () => ['dns', 'localhost'], true],
  ['icmp', () => ['icmp', '127.0.0.1', '--count', '3', '--spacing', '10ms'], root],
  ['traceroute', () => ['traceroute', '127.0.0.1'], root],
];

describe('record invariants, every kind, in a fresh process (issue 17)', () => {
  it.each(CASES)('%s: phases >= 0 and within durationMs', async (_name, args, runs) => {
    if (!runs) return;
    const { stdout, stderr } = await vantage(['probe', ...args(), '--json']);
    const records = jsonLines<Rec>(stdout);
    expect(records.length, stderr).toBeGreaterThan(0);
    for (const r of records) {
      const phases = sequential(r);
      expect(phases.length, JSON.stringify(r)).toBeGreaterThan(0);
      expect(
        phases.every((p) => p >= 0),
        JSON.stringify(r.phasesMs),
      ).toBe(true);
      const sum = phases.reduce((a, b) => a + b, 0);
      expect(sum, JSON.stringify(r)).toBeLessThanOrEqual(r.durationMs + 1e-6);
      if (r.phasesMs.total !== undefined) expect(r.phasesMs.total).toBeLessThanOrEqual(r.durationMs + 1e-6);
    }
  });
});

describe("a fresh process's warm-up spends none of the run's timeout (issue 17)", () => {
  it('a silent resolver is given the whole --timeout: DNS_TIMEOUT after 300 ms, not less', async () => {
    const resolver = `127.0.0.1:${silent.address().port}`;
    const { stdout } = await vantage([
      'probe',
      'dns',
      'a.example',
      '--resolver',
      resolver,
      '--timeout',
      '300ms',
      '--json',
    ]);
    const [r] = jsonLines<Rec & { error: { code: string } }>(stdout);
    expect(r?.error.code).toBe('DNS_TIMEOUT');
    expect(r!.durationMs).toBeGreaterThanOrEqual(295);
  });
});
