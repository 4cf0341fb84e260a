import { createServer as createNetServer } from 'node:net';
import type { Server as NetServer, Socket } from 'node:net';
import type { Server as HttpServer } from 'node:http';
import type { Server as TlsServer, TLSSocket } from 'node:tls';
import type { ListenAddress } from '../config/agent-config.js';
import type { WebServerConfig } from '../settings/web-config-keys.js';
import { connectionCap } from './fd-limit.js';
import type { WebConfig, WebTls } from './web-config-shape.js';

/** How often connections that never sent a request are looked for (and Node's own header checks run). */
export const CHECK_INTERVAL_MS = 1_000;

/** What Go's server answers plain HTTP on a TLS port with, so a misconfigured scraper says why. */
const PLAIN_HTTP_ON_TLS = 'HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n';

interface Connection {
  raw: Socket;
  acceptedMs: number;
  /** A request has started on it: Node's header and keep-alive timeouts guard it from then on. */
  served: boolean;
}

/**
 * The agent's listening socket. It accepts connections itself, up to the cap, and hands each to
 * the HTTP server (wrapped in TLS when the web config asks for it, decided per connection so a
 * reload that turns TLS on or swaps the certificate needs no restart). A connection that sends no
 * complete request head within the header timeout is closed: Node's own `headersTimeout` starts
 * only at the first byte, so silent connections would otherwise stay forever.
 */
export class WebListener {
  private readonly net: NetServer;
  private readonly open = new Set<Connection>();
  private readonly byHttpSocket = new WeakMap<object, Connection>();
  /** Connections in their TLS handshake, by peer address and port (the TLS socket's own are the same). */
  private readonly handshaking = new Map<string, Connection>();
  /** A TLS server per web config's TLS settings: it never listens, it only does handshakes. */
  private readonly tlsServers = new WeakMap<WebTls, TlsServer>();
  private headerTimeoutMs = 0;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly http: HttpServer,
    private readonly webConfig: () => WebConfig,
    dropped: () => void,
  ) {
    this.net = createNetServer({ noDelay: true }, (raw) => this.accept(raw));
    this.net.on('drop', dropped);
    http.on('request', (req) => {
      const conn = this.byHttpSocket.get(req.socket);
      if (conn) conn.served = true;
    });
  }

  async listen(address: ListenAddress, limits: WebServerConfig): Promise<ListenAddress> {
    this.setLimits(limits);
    await new Promise<void>((resolve, reject) => {
      this.net.once('error', reject);
      this.net.listen(address.port, address.host, () => {
        this.net.off('error', reject);
        resolve();
      });
    });
    // Node starts tracking an HTTP server's connections (header and request timeouts, the
    // connections closeAllConnections ends) on its 'listening' event; this server never listens
    // itself, since connections come from the socket above.
    this.http.emit('listening');
    this.sweeper = setInterval(() => this.closeSilent(), CHECK_INTERVAL_MS).unref();
    const bound = this.net.address();
    if (!bound || typeof bound === 'string') throw new Error('the listener has no TCP address');
    return { host: bound.address, port: bound.port };
  }

  /** Applies the `web:` limits; connections already open keep their slot. */
  setLimits(limits: WebServerConfig): void {
    this.net.maxConnections = connectionCap(limits.maxConnections);
    this.headerTimeoutMs = limits.headerTimeoutMs;
    this.http.headersTimeout = limits.headerTimeoutMs;
    // A request here has no body worth waiting for: its head is all of it.
    this.http.requestTimeout = limits.headerTimeoutMs;
    this.http.keepAliveTimeout = limits.idleTimeoutMs;
  }

  get maxConnections(): number {
    return this.net.maxConnections;
  }

  close(): Promise<void> {
    clearInterval(this.sweeper);
    return new Promise((resolve) => {
      this.net.close(() => resolve());
      this.http.closeAllConnections();
      for (const conn of this.open) conn.raw.destroy();
    });
  }

  private accept(raw: Socket): void {
    const conn: Connection = { raw, acceptedMs: performance.now(), served: false };
    this.open.add(conn);
    raw.once('close', () => this.open.delete(conn));
    raw.on('error', () => raw.destroy());
    const tls = this.webConfig().tls;
    if (!tls) {
      this.byHttpSocket.set(raw, conn);
      this.http.emit('connection', raw);
      return;
    }
    const peer = peerOf(raw);
    this.handshaking.set(peer, conn);
    raw.once('close', () => this.handshaking.delete(peer));
    this.tlsServer(tls).emit('connection', raw);
  }

  /**
   * Node's TLS server does the handshake: it checks a client certificate against the CA (setting
   * `authorized`) and enforces `rejectUnauthorized`, which a bare server-side TLSSocket does not.
   */
  private tlsServer(tls: WebTls): TlsServer {
    const existing = this.tlsServers.get(tls);
    if (existing) return existing;
    // node:tls on first use: most agents serve plain HTTP, and loading it costs start-up (Node >= 20.16).
    const server = process.getBuiltinModule('node:tls').createServer({
      ...tls.options,
      ALPNProtocols: ['http/1.1'],
      requestCert: tls.clientAuth !== 'NoClientCert',
      rejectUnauthorized: tls.clientAuth === 'RequireAndVerifyClientCert',
      handshakeTimeout: this.headerTimeoutMs,
    });
    server.on('secureConnection', (secure: TLSSocket) => {
      const peer = peerOf(secure);
      const conn = this.handshaking.get(peer);
      this.handshaking.delete(peer);
      if (!clientCertAcceptable(secure, tls)) {
        secure.destroy();
        return;
      }
      if (conn) this.byHttpSocket.set(secure, conn);
      this.http.emit('connection', secure);
    });
    server.on('tlsClientError', (err: NodeJS.ErrnoException, secure: TLSSocket) => {
      const raw = this.handshaking.get(peerOf(secure))?.raw;
      if (err.code === 'ERR_SSL_HTTP_REQUEST' && raw?.writable) raw.end(PLAIN_HTTP_ON_TLS);
      else secure.destroy();
    });
    this.tlsServers.set(tls, server);
    return server;
  }

  private closeSilent(): void {
    const now = performance.now();
    for (const conn of this.open) {
      if (!conn.served && now - conn.acceptedMs > this.headerTimeoutMs) conn.raw.destroy();
    }
  }
}

function peerOf(socket: Socket): string {
  return `${socket.remoteAddress ?? ''}|${socket.remotePort ?? ''}`;
}

/**
 * The checks OpenSSL leaves to the server: a certificate at all (RequireAnyClientCert), a valid
 * one when given (VerifyClientCertIfGiven), and the allowed subject alternative names.
 */
function clientCertAcceptable(socket: TLSSocket, tls: WebTls): boolean {
  const cert = socket.getPeerCertificate();
  const present = Object.keys(cert).length > 0;
  switch (tls.clientAuth) {
    case 'RequireAnyClientCert':
      if (!present) return false;
      break;
    case 'VerifyClientCertIfGiven':
      if (present && !socket.authorized) return false;
      break;
    default:
      break;
  }
  if (tls.allowedSans.length === 0) return true;
  const sans = (cert.subjectaltname ?? '').split(', ').map((entry) => entry.slice(entry.indexOf(':') + 1));
  return sans.some((san) => tls.allowedSans.includes(san));
}
