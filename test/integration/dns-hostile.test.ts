import { createSocket } from 'node:dgram';
import type { Socket as UdpSocket } from 'node:dgram';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { queryFailure, queryWithin } from '../helpers/dns-query.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { DnsClient } from '../../src/net/dns/dns-client.js';
import { decodeMessage } from '../../src/net/dns/dns-message.js';

/** A reply to `query` (QR set) with `answer` appended as raw bytes and ANCOUNT 1 (0 without one). */
function replyWith(query: Buffer, answer: Buffer, opts: { id?: number; tc?: boolean } = {}): Buffer {
  const questionEnd = 12 + query.subarray(12).indexOf(0) + 5;
  const head = Buffer.from(query.subarray(0, questionEnd));
  if (opts.id !== undefined) head.writeUInt16BE(opts.id, 0);
  head[2] = 0x81 | (opts.tc ? 0x02 : 0);
  head[3] = 0x80;
  head.writeUInt16BE(answer.length > 0 ? 1 : 0, 6);
  head.writeUInt16BE(0, 10);
  return Buffer.concat([head, answer]);
}

const A_RECORD = Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1]);
const LOOP = Buffer.from([0xc0, 12 + 20, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1]);

/** What the hostile server does, by the first label of the question. */
function behave(query: Buffer, send: (b: Buffer) => void, side: UdpSocket | undefined): void {
  const label = query.subarray(13, 13 + query[12]!).toString();
  switch (label) {
    case 'ok':
      return send(replyWith(query, A_RECORD));
    case 'truncated':
      return send(replyWith(query, A_RECORD).subarray(0, 30));
    case 'loop':
      return send(replyWith(query, LOOP));
    case 'random':
      return send(Buffer.concat([query.subarray(0, 2), randomBytes(60)]));
    case 'wrongid':
      return send(replyWith(query, A_RECORD, { id: (query.readUInt16BE(0) + 1) & 0xffff }));
    case 'tc':
      return send(replyWith(query, Buffer.alloc(0), { tc: true }));
    case 'spoofed':
      // A forged answer from another port first, then the real one.
      side?.send(
        replyWith(query, Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 6, 6, 6, 6])),
        portOf.clientPort,
        '127.0.0.1',
      );
      setTimeout(() => send(replyWith(query, A_RECORD)), 20);
      return;
    case 'hang':
    default:
      return;
  }
}

const portOf = { udp: 0, tcp: 0, clientPort: 0 };
/** Queries for tc.test that reached the TCP side: the retry after a truncated UDP answer. */
let tcRetries = 0;
let udp: UdpSocket;
let side: UdpSocket;
let tcp: Server;
const streams = new Set<Socket>();

beforeAll(async () => {
  udp = createSocket('udp4');
  side = createSocket('udp4');
  udp.on('message', (msg, from) => {
    portOf.clientPort = from.port;
    behave(msg, (b) => udp.send(b, from.port, from.address), side);
  });
  await new Promise<void>((r) => side.bind(0, '127.0.0.1', r));
  tcp = createServer((s) => {
    streams.add(s);
    s.on('error', () => undefined);
    s.on('close', () => streams.delete(s));
    s.on('data', (chunk) => {
      const q = chunk.subarray(2);
      const label = q.subarray(13, 13 + q[12]!).toString();
      if (label === 'tc') {
        tcRetries++;
        // The TCP retry of a truncated answer gets a looping one.
        const body = replyWith(q, LOOP);
        s.write(Buffer.concat([Buffer.from([body.length >> 8, body.length & 0xff]), body]));
      } else if (label === 'oversized') {
        s.write(Buffer.from([0xff, 0xff]));
        s.end(randomBytes(100));
      }
    });
  });
  tcp.listen(0, '127.0.0.1');
  await once(tcp, 'listening');
  portOf.tcp = (tcp.address() as { port: number }).port;
  // UDP on the same port number, as a real server: the TCP retry goes to the port UDP used.
  await new Promise<void>((r) => udp.bind(portOf.tcp, '127.0.0.1', r));
  portOf.udp = udp.address().port;
});

afterAll(() => {
  udp.close();
  side.close();
  for (const s of streams) s.destroy();
  tcp.close();
});

/** UDP through the addon's kernel-stamped socket (the default), or Node's dgram (the fallback). */
const CLIENTS = {
  'kernel-stamped': new DnsClient(systemClock),
  dgram: new DnsClient(systemClock, { udp: 'dgram' }),
} as const;
type UdpPath = keyof typeof CLIENTS;

function ask(name: string, transport: 'udp' | 'tcp' = 'udp', timeoutMs = 500, udp: UdpPath = 'kernel-stamped') {
  const port = transport === 'udp' ? portOf.udp : portOf.tcp;
  return queryWithin(
    { server: { transport, address: '127.0.0.1', port }, name, type: 'A', ednsUdpSize: 1232 },
    timeoutMs,
    CLIENTS[udp],
  );
}

/**
 * Open sockets of this process, minus the hostile server's own accepted connections: file
 * descriptors, which count the addon's sockets too (Node's active resources do not).
 */
const sockets = () => readdirSync('/proc/self/fd').length - streams.size;

describe.each(Object.keys(CLIENTS) as UdpPath[])('DNS over UDP (%s) against a hostile local server', (udp) => {
  it('reads a good answer', async () => {
    const answer = await ask('ok.test', 'udp', 500, udp);
    expect(answer.message.answers.map((a) => a.data)).toEqual(['192.0.2.1']);
  });

  it.each([
    ['truncated.test', 'DNS_MALFORMED'],
    ['loop.test', 'DNS_MALFORMED'],
    ['random.test', 'DNS_MALFORMED'],
    ['wrongid.test', 'DNS_TIMEOUT'],
    ['hang.test', 'DNS_TIMEOUT'],
  ])('%s fails with %s, no crash, no socket left open', async (name, code) => {
    await ask('ok.test', 'udp', 500, udp);
    const before = sockets();
    const err = await queryFailure(ask(name, 'udp', 500, udp));
    expect(err.code).toBe(code);
    await new Promise((r) => setTimeout(r, 20));
    expect(sockets()).toBeLessThanOrEqual(before);
  });

  it('ignores a forged answer from another port and takes the real one', async () => {
    const answer = await ask('spoofed.test', 'udp', 500, udp);
    expect(answer.message.answers.map((a) => a.data)).toEqual(['192.0.2.1']);
  });
});

describe('DNS transport against a hostile local server', () => {
  it('retries a truncated answer over TCP, where a looping answer is refused', async () => {
    const err = await queryFailure(ask('tc.test'));
    expect(tcRetries).toBe(1);
    expect(err.code).toBe('DNS_MALFORMED');
  });

  it('refuses an oversized TCP answer and a server that hangs up, freeing the socket', async () => {
    const before = sockets();
    expect((await queryFailure(ask('oversized.test', 'tcp'))).code).toBe('DNS_MALFORMED');
    expect((await queryFailure(ask('hang.test', 'tcp', 300))).code).toBe('DNS_TIMEOUT');
    await new Promise((r) => setImmediate(r));
    expect(sockets()).toBeLessThanOrEqual(before);
  });

  it('sends a fresh random id per query', async () => {
    const ids = new Set<number>();
    const seen = (msg: Buffer) => ids.add(decodeMessage(msg).id);
    udp.on('message', seen);
    for (let i = 0; i < 20; i++) await ask('ok.test');
    udp.off('message', seen);
    expect(ids.size).toBeGreaterThan(15);
  });
});
