import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import type { TLSSocket } from 'node:tls';
import { queryFailure, queryWithin } from '../helpers/dns-query.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { DnsClient } from '../../src/net/dns/dns-client.js';
import type { DnsExchange, DnsServer } from '../../src/net/dns/dns-client.js';
import { warmUpDns } from '../../src/net/dns/warm-up.js';
import { BIN, jsonLines } from '../helpers/agent-process.js';
import { selfSignedFiles } from '../helpers/web-certs.js';

/**
 * DoT and DoH resolvers on 127.0.0.1 that fail in the ways real ones do: certificates with and
 * without an IP SAN, a wrong name, an untrusted CA, handshakes that break (plain text, a close, a
 * protocol alert), and a DoH response whose header block overflows Node's HTTP parser.
 */

/** A reply to `query` (QR set) with one A record, 192.0.2.1. */
function reply(query: Buffer): Buffer {
  const questionEnd = 12 + query.subarray(12).indexOf(0) + 5;
  const head = Buffer.from(query.subarray(0, questionEnd));
  head[2] = 0x81;
  head[3] = 0x80;
  head.writeUInt16BE(1, 6);
  head.writeUInt16BE(0, 10);
  return Buffer.concat([head, Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1])]);
}

interface Pem {
  cert: string;
  key: string;
}

let dir = '';
/** Self-signed, trusted by passing it as `ca`: IP SAN 127.0.0.1 and DNS dns.test, or DNS dns.test only. */
let withIp: Pem;
let nameOnly: Pem;
const servers: Server[] = [];
const sockets = new Set<Socket>();
/** SNI each server saw, per port: `false` when the client sent none. */
const sniSeen = new Map<number, Array<string | false | null>>();

function selfSigned(base: string, san: string): Pem {
  const files = selfSignedFiles(dir, base, '/CN=dns.test', san);
  return { cert: readFileSync(files.cert, 'utf8'), key: readFileSync(files.key, 'utf8') };
}

async function listen(server: Server): Promise<number> {
  servers.push(server);
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
  });
  server.on('tlsClientError', () => undefined);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  sniSeen.set(port, []);
  server.on('secureConnection', (s: TLSSocket) => sniSeen.get(port)?.push(s.servername));
  return port;
}

/** DNS over TLS: length-framed queries, each answered. */
function dotServer(pem: Pem, opts: { ALPNProtocols?: string[]; maxVersion?: 'TLSv1.1' } = {}): Promise<number> {
  return listen(
    createTlsServer({ ...pem, ...opts, ...(opts.maxVersion ? { minVersion: 'TLSv1' } : {}) }, (s) => {
      s.on('data', (chunk: Buffer) => {
        const body = reply(chunk.subarray(2));
        s.write(Buffer.concat([Buffer.from([body.length >> 8, body.length & 0xff]), body]));
      });
    }),
  );
}

/** DNS over HTTPS: `/dns-query` answers; `/big-header` sends a 20 KB header (Node's client limit: 16 KiB). */
function dohServer(pem: Pem, opts: { maxVersion?: 'TLSv1.1' } = {}): Promise<number> {
  return listen(
    createHttpsServer({ ...pem, ...opts, ...(opts.maxVersion ? { minVersion: 'TLSv1' } : {}) }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = reply(Buffer.concat(chunks));
        if (req.url === '/big-header') res.setHeader('x-filler', 'a'.repeat(20_000));
        res.writeHead(200, { 'content-type': 'application/dns-message', 'content-length': body.length });
        res.end(body);
      });
    }),
  );
}

const port = { dotIp: 0, dotName: 0, dohIp: 0, dohName: 0, plain: 0, closer: 0, dotAlpn: 0, dotOld: 0, dohOld: 0 };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vantage-dns-tls-'));
  withIp = selfSigned('ip', 'DNS:dns.test,IP:127.0.0.1');
  nameOnly = selfSigned('name', 'DNS:dns.test');
  port.dotIp = await dotServer(withIp);
  port.dotName = await dotServer(nameOnly);
  port.dohIp = await dohServer(withIp);
  port.dohName = await dohServer(nameOnly);
  // Not TLS at all: answers the ClientHello with plain text.
  port.plain = await listen(createTcpServer((s) => s.once('data', () => s.end('HTTP/1.1 400 Bad Request\r\n\r\n'))));
  // Hangs up as soon as the ClientHello arrives.
  port.closer = await listen(createTcpServer((s) => s.once('data', () => s.destroy())));
  // Speaks only h2, so refuses DoT's ALPN "dot" with an alert.
  port.dotAlpn = await dotServer(withIp, { ALPNProtocols: ['h2'] });
  // Speaks only TLS up to 1.1: a protocol-version alert.
  port.dotOld = await dotServer(withIp, { maxVersion: 'TLSv1.1' });
  port.dohOld = await dohServer(withIp, { maxVersion: 'TLSv1.1' });
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function ask(server: DnsServer, timeoutMs = 2_000) {
  return queryWithin({ server, name: 'ok.test', type: 'A' }, timeoutMs);
}

type Transport = 'tls' | 'https';
const dot = (p: keyof typeof port, extra: Partial<DnsServer> = {}): DnsServer => ({
  transport: 'tls',
  address: '127.0.0.1',
  port: port[p],
  ...extra,
});
/** As the dns kind builds it from `https://HOST:PORT/dns-query`: serverName is the URL's host, an IP or a name. */
const doh = (p: keyof typeof port, extra: Partial<DnsServer> = {}): DnsServer => ({
  transport: 'https',
  address: '127.0.0.1',
  port: port[p],
  serverName: '127.0.0.1',
  path: '/dns-query',
  ...extra,
});

describe('DoT and DoH resolvers given as IP literals', () => {
  it.each([
    ['tls', () => dot('dotIp', { ca: withIp.cert })],
    ['https', () => doh('dohIp', { ca: withIp.cert })],
  ] as Array<[Transport, () => DnsServer]>)(
    '%s: sends no SNI for an IP and accepts a certificate whose IP SAN matches',
    async (_transport, server) => {
      const s = server();
      const answer = await ask(s);
      expect(answer.message.answers.map((a) => a.data)).toEqual(['192.0.2.1']);
      expect(sniSeen.get(s.port)).toEqual([false]);
    },
  );

  it.each([
    ['tls', () => dot('dotName', { ca: nameOnly.cert })],
    ['https', () => doh('dohName', { ca: nameOnly.cert })],
  ] as Array<[Transport, () => DnsServer]>)(
    '%s: refuses a certificate without an IP SAN for an IP, as DNS_TLS_FAILED',
    async (_transport, server) => {
      const err = await queryFailure(ask(server()));
      expect(err).toMatchObject({ code: 'DNS_TLS_FAILED', phase: 'tls' });
      expect(err.message).toContain("IP: 127.0.0.1 is not in the cert's list");
    },
  );

  it.each([
    ['tls', () => dot('dotName', { ca: nameOnly.cert, serverName: 'dns.test' })],
    ['https', () => doh('dohName', { ca: nameOnly.cert, serverName: 'dns.test' })],
  ] as Array<[Transport, () => DnsServer]>)('%s: with a name, sends it as SNI and checks it', async (_t, server) => {
    const s = server();
    const answer = await ask(s);
    expect(answer.message.answers.map((a) => a.data)).toEqual(['192.0.2.1']);
    expect(sniSeen.get(s.port)?.at(-1)).toBe('dns.test');
  });
});

describe('DoT and DoH handshake failures are DNS_TLS_FAILED', () => {
  it.each([
    ['tls wrong name', () => dot('dotIp', { ca: withIp.cert, serverName: 'other.test' })],
    ['https wrong name', () => doh('dohIp', { ca: withIp.cert, serverName: 'other.test' })],
    ['tls untrusted', () => dot('dotIp')],
    ['https untrusted', () => doh('dohIp')],
    ['tls plain-text server', () => dot('plain')],
    ['https plain-text server', () => doh('plain')],
    ['tls hang-up in the handshake', () => dot('closer')],
    ['https hang-up in the handshake', () => doh('closer')],
    ['tls ALPN "dot" refused', () => dot('dotAlpn', { ca: withIp.cert })],
    ['tls protocol version alert', () => dot('dotOld', { ca: withIp.cert })],
    ['https protocol version alert', () => doh('dohOld', { ca: withIp.cert })],
  ] as Array<[string, () => DnsServer]>)('%s', async (_case, server) => {
    const err = await queryFailure(ask(server()));
    expect(err).toMatchObject({ code: 'DNS_TLS_FAILED', phase: 'tls' });
  });
});

describe('a DoH response Node cannot parse', () => {
  it('a header block over the parser limit breaks HTTP: DNS_MALFORMED, not DNS_RESOLVE_FAILED', async () => {
    const err = await queryFailure(ask(doh('dohIp', { ca: withIp.cert, path: '/big-header' })));
    expect(err).toMatchObject({ code: 'DNS_MALFORMED', phase: 'request' });
    expect(err.message).toContain('HPE_HEADER_OVERFLOW');
  });
});

describe('vantage probe dns with IP-literal DoT and DoH resolvers', () => {
  it('answers and prints no DEP0123 (TLS ServerName set to an IP) warning', async () => {
    const child = spawn(
      process.execPath,
      [
        BIN,
        'probe',
        'dns',
        'ok.test',
        '--resolver',
        `[tls://127.0.0.1:${port.dotIp}, https://127.0.0.1:${port.dohIp}/dns-query]`,
        '--ca-file',
        join(dir, 'ip.pem'),
        '--timeout',
        '3s',
        '--json',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += String(d)));
    child.stderr.on('data', (d: Buffer) => (stderr += String(d)));
    const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const [code] = (await once(child, 'close')) as [number | null];
    clearTimeout(kill);
    expect(stderr).not.toContain('DEP0123');
    expect(stderr).not.toContain('ServerName');
    const records = jsonLines<{ ok: boolean; transport: string; addresses: string[] }>(stdout);
    expect(records.map((r) => [r.transport, r.ok, r.addresses])).toEqual([
      ['tls', true, ['192.0.2.1']],
      ['https', true, ['192.0.2.1']],
    ]);
    expect(code).toBe(0);
  });
});

describe("the DNS client's warm-up (issue 17)", () => {
  it('gets an answer over every transport (UDP, TCP, DoT, DoH) from its loopback echoes', async () => {
    const client = new DnsClient(systemClock);
    const seen: DnsExchange[] = [];
    await warmUpDns(async (req) => {
      const x = await client.query(req);
      seen.push(x);
      return x;
    });
    expect(seen.map((x) => [x.transport, x.message.rcode, x.message.response])).toEqual([
      ['udp', 0, true],
      ['tcp', 0, true],
      ['tls', 0, true],
      ['https', 0, true],
    ]);
  });
});
