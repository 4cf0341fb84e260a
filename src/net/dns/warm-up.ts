import { createSocket } from 'node:dgram';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { throwawayCertificate } from '../http/throwaway-cert.js';
import type { DnsExchange, DnsQueryRequest, DnsServer } from './dns-exchange.js';

/** Long enough for a loaded machine, short enough that a broken loopback does not hold a run. */
const WARM_UP_TIMEOUT_MS = 2_000;

/**
 * One untimed query per transport (UDP, TCP, DoT, DoH) through `exchange` to loopback echo
 * servers of our own (a throwaway certificate for the TLS ones): a process's first query otherwise
 * runs cold code (socket setup, TLS, the HTTP client, encoder, decoder) between its stamps, several
 * milliseconds that would be blamed on the resolver. Failures are ignored: without loopback the
 * first query is merely slow.
 */
export async function warmUpDns(exchange: (req: DnsQueryRequest) => Promise<DnsExchange>): Promise<void> {
  const signal = AbortSignal.timeout(WARM_UP_TIMEOUT_MS);
  const closers: Array<() => void> = [];
  try {
    const { cert, key } = throwawayCertificate();
    const udp = createSocket('udp4');
    closers.push(() => udp.close());
    udp.on('message', (msg, from) => udp.send(answer(msg), from.port, from.address));
    await new Promise<void>((resolve, reject) => udp.once('error', reject).bind(0, '127.0.0.1', resolve));
    const servers: DnsServer[] = [{ transport: 'udp', address: '127.0.0.1', port: udp.address().port }];
    for (const [transport, server] of [
      ['tcp', createTcpServer(framedEcho)],
      ['tls', createTlsServer({ cert, key, ALPNProtocols: ['dot'] }, framedEcho)],
      [
        'https',
        createHttpsServer({ cert, key }, (req, res) => {
          const chunks: Buffer[] = [];
          req.on('data', (c: Buffer) => chunks.push(c));
          req.on('end', () =>
            res.writeHead(200, { 'content-type': 'application/dns-message' }).end(answer(Buffer.concat(chunks))),
          );
        }),
      ],
    ] as const) {
      closers.push(() => server.close());
      await listen(server);
      const { port } = server.address() as { port: number };
      servers.push({ transport, address: '127.0.0.1', port, serverName: '127.0.0.1', ca: cert });
    }
    for (const server of servers) {
      await exchange({ server, name: 'warm-up.invalid', type: 'A', ednsUdpSize: 1232, signal }).catch(() => undefined);
    }
  } catch {
    // Only a warm-up.
  } finally {
    for (const close of closers) close();
  }
}

/** A query answered with itself, QR set: a well-formed empty NOERROR response. */
function answer(query: Buffer): Buffer {
  const reply = Buffer.from(query);
  reply[2] = (reply[2] ?? 0) | 0x80;
  return reply;
}

/** Answers each two-byte-length-framed query on a stream (TCP, DoT) with itself, QR set. */
function framedEcho(socket: Socket): void {
  let received = Buffer.alloc(0);
  socket.on('error', () => undefined);
  socket.on('data', (chunk: Buffer) => {
    received = Buffer.concat([received, chunk]);
    while (received.length >= 2 && received.length >= 2 + received.readUInt16BE(0)) {
      const length = received.readUInt16BE(0);
      socket.write(Buffer.concat([received.subarray(0, 2), answer(received.subarray(2, 2 + length))]));
      received = received.subarray(2 + length);
    }
  });
}

function listen(server: Server): Promise<void> {
  return new Promise((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
}
