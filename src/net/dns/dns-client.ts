import { randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import type { EventEmitter } from 'node:events';
import { request as httpsRequest } from 'node:https';
import type { RequestOptions } from 'node:https';
import { isIP, Socket } from 'node:net';
import { checkServerIdentity, connect as tlsConnect } from 'node:tls';
import type { ConnectionOptions, PeerCertificate } from 'node:tls';
import type { Clock } from '../../clock.js';
import { elapsedMs } from '../../clock.js';
import { CheckFailure } from '../../errors.js';
import { hostPort } from '../address.js';
import { secureContextFor } from '../http/secure-contexts.js';
import { asDnsFailure } from './dns-failure.js';
import type { DnsStage } from './dns-failure.js';
import { DnsParseError, decodeMessage, encodeQuery } from './dns-message.js';
import type { DnsExchange, DnsQueryRequest, DnsServer } from './dns-exchange.js';
import { StampedUdp } from './udp-stamped.js';
import { warmUpDns } from './warm-up.js';
import type { DnsMessage } from './dns-message.js';

export type { DnsExchange, DnsQueryRequest, DnsServer, DnsTransport } from './dns-exchange.js';

const MAX_MESSAGE = 65_535;

/**
 * Our own DNS transport (dns2's client has no TCP timeout and a fixed id 0): a fresh socket and a
 * random id per query, answers from another source or with another id or question ignored,
 * every transport bounded by the run's signal, timings on the monotonic clock, TCP after a
 * truncated UDP answer. Throws `CheckFailure` with a DNS_* code.
 */
export class DnsClient {
  /** One untimed query per transport to loopback echoes of our own, at creation (warm-up.ts). */
  readonly warmed: Promise<void>;
  /** UDP with the kernel's stamps (udp-stamped.ts); Node's dgram when the addon is not built. */
  private readonly stamped: StampedUdp | undefined;

  /** `udp`: `dgram` keeps Node's socket even where the addon is built (the fallback's own tests). */
  constructor(
    private readonly clock: Clock,
    opts: { udp?: 'kernel-stamped' | 'dgram' } = {},
  ) {
    this.stamped = opts.udp === 'dgram' ? undefined : StampedUdp.create(clock);
    this.warmed = warmUpDns((req) => this.exchange(req));
  }

  async query(req: DnsQueryRequest): Promise<DnsExchange> {
    await this.warmed;
    return this.exchange(req);
  }

  private async exchange(req: DnsQueryRequest): Promise<DnsExchange> {
    const id = randomInt(0x10000);
    const wire = encodeQuery({
      id,
      name: req.name,
      type: req.type,
      ...(req.ednsUdpSize ? { ednsUdpSize: req.ednsUdpSize } : {}),
    });
    const name = req.name.toLowerCase().replace(/\.$/, '');
    const type = req.type.toUpperCase();
    const check = (message: DnsMessage): boolean =>
      message.response &&
      message.id === id &&
      message.question?.name.toLowerCase().replace(/\.$/, '') === name &&
      message.question.type === type;
    const { server } = req;
    const at: Progress = { stage: 'request' };
    try {
      switch (server.transport) {
        case 'udp': {
          const udp = await this.udp(server, wire, check, req.signal);
          if (!udp.message.flags.tc) return udp;
          // Truncated: the whole answer only fits a stream (RFC 7766).
          const tcp = await this.stream(server, wire, check, req.signal, false, at);
          return { ...tcp, transport: 'tcp', phasesMs: { udp: udp.phasesMs.request ?? 0, ...tcp.phasesMs } };
        }
        case 'tcp':
          return await this.stream(server, wire, check, req.signal, false, at);
        case 'tls':
          return await this.stream(server, wire, check, req.signal, true, at);
        case 'https':
          return await this.https(server, wire, check, req.signal, at);
      }
    } catch (err) {
      throw asDnsFailure(err, `${server.transport}://${hostPort(server.address, server.port)}`, at.stage, req.signal);
    }
  }

  private async udp(
    server: DnsServer,
    wire: Buffer,
    check: (m: DnsMessage) => boolean,
    signal: AbortSignal,
  ): Promise<DnsExchange> {
    if (!this.stamped) return this.dgram(server, wire, check, signal);
    const reply = await this.stamped.exchange(
      server.address,
      server.port,
      wire,
      (datagram) => {
        // A malformed answer fails the query; another id or question is someone else's and waits.
        const message = decodeMessage(datagram);
        return check(message) ? message : undefined;
      },
      signal,
    );
    return {
      message: reply.value,
      transport: 'udp',
      server: hostPort(server.address, server.port),
      phasesMs: { request: reply.rttMs },
      responseBytes: reply.bytes,
    };
  }

  /** UDP through Node's dgram: timings are the event loop's (see udp-stamped.ts). */
  private dgram(
    server: DnsServer,
    wire: Buffer,
    check: (m: DnsMessage) => boolean,
    signal: AbortSignal,
  ): Promise<DnsExchange> {
    return new Promise((resolve, reject) => {
      const socket = createSocket(server.address.includes(':') ? 'udp6' : 'udp4');
      let sentNs = 0n;
      const done = settleOnce(socket, () => socket.close(), signal, resolve, reject);
      socket.on('error', (err) => done(err));
      socket.on('message', (msg, from) => {
        const at = this.clock.monotonicNs();
        // connect() makes the kernel drop other sources; the id and question guard against the rest.
        if (from.address !== server.address || from.port !== server.port) return;
        let message: DnsMessage;
        try {
          message = decodeMessage(msg);
        } catch (err) {
          done(err);
          return;
        }
        if (!check(message)) return;
        done(undefined, {
          message,
          transport: 'udp',
          server: hostPort(from.address, from.port),
          phasesMs: { request: elapsedMs(sentNs, at) },
          responseBytes: msg.length,
        });
      });
      socket.connect(server.port, server.address, () => {
        if (signal.aborted) return;
        sentNs = this.clock.monotonicNs();
        socket.send(wire);
      });
    });
  }

  /** TCP or TLS: two-byte length framing (RFC 1035 4.2.2). */
  private stream(
    server: DnsServer,
    wire: Buffer,
    check: (m: DnsMessage) => boolean,
    signal: AbortSignal,
    tls: boolean,
    at: Progress,
  ): Promise<DnsExchange> {
    return new Promise((resolve, reject) => {
      const startNs = this.clock.monotonicNs();
      const phases: Record<string, number> = {};
      let sentNs = 0n;
      let received = Buffer.alloc(0);
      at.stage = 'connect';
      const socket = tls
        ? tlsConnect({
            host: server.address,
            port: server.port,
            ...tlsName(server.serverName ?? server.address),
            secureContext: secureContextFor({ ca: server.ca }),
            ALPNProtocols: ['dot'],
          })
        : new Socket().connect(server.port, server.address);
      const done = settleOnce(socket, () => socket.destroy(), signal, resolve, reject);
      socket.once('connect', () => {
        phases.connect = elapsedMs(startNs, this.clock.monotonicNs());
        at.stage = tls ? 'tls' : 'request';
      });
      const send = (): void => {
        const framed = Buffer.alloc(2 + wire.length);
        framed.writeUInt16BE(wire.length, 0);
        wire.copy(framed, 2);
        sentNs = this.clock.monotonicNs();
        socket.write(framed);
      };
      socket.once(tls ? 'secureConnect' : 'connect', () => {
        if (tls) phases.tls = elapsedMs(startNs, this.clock.monotonicNs()) - (phases.connect ?? 0);
        at.stage = 'request';
        send();
      });
      socket.on('error', (err) => done(err));
      socket.on('end', () =>
        done(
          at.stage === 'tls'
            ? new Error('the server closed the connection during the handshake')
            : new DnsParseError('the server closed the connection before a whole answer'),
        ),
      );
      socket.on('data', (chunk: Buffer) => {
        received = Buffer.concat([received, chunk]);
        while (received.length >= 2 && received.length >= 2 + received.readUInt16BE(0)) {
          const length = received.readUInt16BE(0);
          const frame = received.subarray(2, 2 + length);
          received = received.subarray(2 + length);
          let message: DnsMessage;
          try {
            message = decodeMessage(frame);
          } catch (err) {
            done(err);
            return;
          }
          if (!check(message)) continue;
          phases.request = elapsedMs(sentNs, this.clock.monotonicNs());
          done(undefined, {
            message,
            transport: tls ? 'tls' : 'tcp',
            server: hostPort(server.address, server.port),
            phasesMs: phases,
            responseBytes: frame.length,
          });
          return;
        }
        if (received.length > MAX_MESSAGE + 2) done(new DnsParseError('answer larger than a DNS message can be'));
      });
    });
  }

  /** DNS over HTTPS (RFC 8484): POST application/dns-message, the host pinned to `address`. */
  private https(
    server: DnsServer,
    wire: Buffer,
    check: (m: DnsMessage) => boolean,
    signal: AbortSignal,
    at: Progress,
  ): Promise<DnsExchange> {
    return new Promise((resolve, reject) => {
      const startNs = this.clock.monotonicNs();
      const phases: Record<string, number> = {};
      let sentNs = 0n;
      const name = server.serverName ?? server.address;
      at.stage = 'connect';
      // https.request hands its options to tls.connect, which takes a context (its types omit it).
      const options: RequestOptions & Pick<ConnectionOptions, 'secureContext'> = {
        host: server.address,
        port: server.port,
        path: server.path ?? '/dns-query',
        method: 'POST',
        ...tlsName(name),
        headers: {
          host: name,
          'content-type': 'application/dns-message',
          accept: 'application/dns-message',
          'content-length': wire.length,
        },
        agent: false,
        signal,
        secureContext: secureContextFor({ ca: server.ca }),
      };
      const req = httpsRequest(options);
      req.once('socket', (socket) => {
        socket.once('connect', () => {
          phases.connect = elapsedMs(startNs, this.clock.monotonicNs());
          at.stage = 'tls';
        });
        socket.once('secureConnect', () => {
          phases.tls = elapsedMs(startNs, this.clock.monotonicNs()) - (phases.connect ?? 0);
          sentNs = this.clock.monotonicNs();
          at.stage = 'request';
        });
      });
      req.on('error', (err) => reject(signal.aborted ? signal.reason : err));
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_MESSAGE) req.destroy(new DnsParseError('answer larger than a DNS message can be'));
          else chunks.push(c);
        });
        res.on('error', reject);
        res.on('end', () => {
          if (res.statusCode !== 200) {
            reject(new CheckFailure('DNS_RESOLVE_FAILED', `DoH server answered HTTP ${res.statusCode}`, 'request'));
            return;
          }
          try {
            const body = Buffer.concat(chunks);
            const message = decodeMessage(body);
            if (!check(message)) throw new DnsParseError('the answer does not match the query (id or question)');
            phases.request = elapsedMs(sentNs || startNs, this.clock.monotonicNs());
            resolve({
              message,
              transport: 'https',
              server: hostPort(server.address, server.port),
              phasesMs: phases,
              responseBytes: body.length,
            });
          } catch (err) {
            reject(err);
          }
        });
      });
      req.end(wire);
    });
  }
}

/** Where a query stands (see `DnsStage`), updated by the transport as it goes. */
interface Progress {
  stage: DnsStage;
}

/**
 * TLS options naming the resolver: SNI only for a host name (RFC 6066 forbids an IP there, and
 * Node warns DEP0123), while the certificate is checked against `name` either way, an IP literal
 * against the certificate's IP SANs.
 */
function tlsName(name: string): {
  servername: string;
  checkServerIdentity: (host: string, cert: PeerCertificate) => Error | undefined;
} {
  return {
    servername: isIP(name) === 0 ? name : '',
    checkServerIdentity: (_host, cert) => checkServerIdentity(name, cert),
  };
}

/**
 * How a UDP or stream query settles, once: off the signal, the socket silenced and released, then
 * resolved or rejected. The signal aborting settles it with its reason.
 */
function settleOnce(
  socket: EventEmitter,
  release: () => void,
  signal: AbortSignal,
  resolve: (value: DnsExchange) => void,
  reject: (err: unknown) => void,
): (err: unknown, value?: DnsExchange) => void {
  const done = (err: unknown, value?: DnsExchange): void => {
    signal.removeEventListener('abort', onAbort);
    socket.removeAllListeners();
    socket.on('error', () => undefined);
    release();
    if (value) resolve(value);
    else reject(err);
  };
  const onAbort = (): void => done(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  return done;
}
