import { request as httpRequest } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { connect as http2Connect, constants as http2Constants } from 'node:http2';
import { isIP, Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Clock } from '../../clock.js';
import { elapsedMs } from '../../clock.js';
import { CheckFailure } from '../../errors.js';
import type { FailureCode } from '../../errors.js';
import { hostPort, stripBrackets } from '../address.js';
import { secureContextFor } from './secure-contexts.js';
import { captureTls } from './tls-facts.js';
import { HttpsFailure, stoppedFailure } from './https-failure.js';
import { requestPort } from './https-exchange.js';
import type { HttpsExchange, HttpsRequest } from './https-exchange.js';
import { warmUpHttps } from './warm-up.js';
import type { TlsFacts } from './tls-facts.js';
import { localResourceFailure } from '../local-resource.js';
import { connectStamped } from '../connect-stamped.js';
import { establishedNs } from '../tcp-info.js';

export type { HttpsExchange, HttpsRequest } from './https-exchange.js';
export { HttpsFailure } from './https-failure.js';

const TLS_ERROR_CODES: Record<string, FailureCode> = {
  CERT_HAS_EXPIRED: 'TLS_CERT_EXPIRED',
  CERT_NOT_YET_VALID: 'TLS_CERT_EXPIRED',
  ERR_TLS_CERT_ALTNAME_INVALID: 'TLS_CERT_NAME_MISMATCH',
};

/**
 * One HTTP exchange on a fresh connection we own, so every phase is stamped where it happens: the
 * socket's connect, the TLS handshake, the request written, the first read from the socket after
 * that (the true first byte; got and most clients stamp when headers are parsed, or when they
 * start waiting), headers complete, and the body's end. HTTP/1.1 or HTTP/2 by ALPN on that same
 * connection (for HTTP/2 the first byte is the response's HEADERS frame: the session owns the
 * socket's reads). Certificates are checked but a bad one is a result with its code, not a throw.
 */
export class HttpsClient {
  /**
   * Loopback exchanges of our own at creation (warm-up.ts), untimed: the first exchange of a
   * process otherwise runs cold code (TLS, the HTTP parser, HTTP/2) inside its phases.
   */
  readonly warmed: Promise<void>;

  constructor(private readonly clock: Clock) {
    this.warmed = warmUpHttps((req) => this.exchangeNow(req));
  }

  async exchange(req: HttpsRequest): Promise<HttpsExchange> {
    await this.warmed;
    return this.exchangeNow(req);
  }

  private exchangeNow(req: HttpsRequest): Promise<HttpsExchange> {
    // Set again right before the connect(2); this first value only covers a failure before it.
    let startNs = this.clock.monotonicNs();
    const phasesMs: Record<string, number> = {};
    const stamp = (phase: string): void => {
      phasesMs[phase] ??= elapsedMs(startNs, this.clock.monotonicNs());
    };
    let readTls: (() => TlsFacts) | null = null;
    const tls = (): TlsFacts | null => readTls?.() ?? null;
    let currentPhase = 'connect';
    const secure = req.url.protocol === 'https:';
    const port = requestPort(req.url);
    const host = stripBrackets(req.url.hostname);
    // Before the first stamp: a process's first context for these files takes a millisecond or two.
    const context = secure
      ? secureContextFor({ ca: req.ca, cert: req.clientCert?.cert, key: req.clientCert?.key })
      : null;
    return new Promise<HttpsExchange>((resolve, reject) => {
      const cleanups: Array<() => void> = [];
      let settled = false;
      // Settles once: closing the connection on the way out makes the parser report errors too.
      // Cleanups run newest first, so the TLS socket goes before the TCP socket under it: Node 20
      // crashed (SIGSEGV) some time after a TCP socket was destroyed beneath a live TLS socket
      // (seen after a run that refused a certificate chain).
      const settle = (): boolean => {
        if (settled) return false;
        settled = true;
        for (let i = cleanups.length - 1; i >= 0; i--) cleanups[i]?.();
        return true;
      };
      const fail = (failure: CheckFailure): void => {
        if (settle()) reject(new HttpsFailure(failure, phasesMs, tls()));
      };
      const done = (value: Omit<HttpsExchange, 'phasesMs'>): void => {
        if (settle()) resolve({ ...value, phasesMs });
      };
      const onAbort = (): void => fail(stoppedFailure(req, currentPhase));
      // Aborted already (while the warm-up ran, say): an 'abort' listener added now would never fire.
      if (req.signal.aborted) {
        onAbort();
        return;
      }
      req.signal.addEventListener('abort', onAbort, { once: true });
      cleanups.push(() => req.signal.removeEventListener('abort', onAbort));

      // TCP first, on a socket of our own, then TLS over it: the connect phase is the handshake
      // alone (as the tcp check measures it), and building the TLS socket falls in the tls phase
      // where curl's appconnect has it too, not before the SYN.
      const raw = new Socket();
      // As curl and Node's http.Agent do: with Nagle on, the request waited in the kernel for the
      // server's ACK of the TLS Finished still in flight, time read as the server's.
      raw.setNoDelay(true);
      cleanups.push(() => raw.destroy());
      const flow: Flow = {
        stamp,
        setPhase: (p) => (currentPhase = p),
        done,
        fail,
        onCleanup: (c) => cleanups.push(c),
        isSettled: () => settled,
        tls,
      };
      const onError = (err: NodeJS.ErrnoException): void => fail(socketFailure(err, currentPhase, req, port));
      raw.on('error', onError);
      raw.once('connect', () => {
        phasesMs.connect = elapsedMs(startNs, establishedNs(raw, startNs, this.clock.monotonicNs()));
        if (!secure) {
          currentPhase = 'request';
          this.send(req, raw, 'http/1.1', flow);
          return;
        }
        currentPhase = 'tls';
        const tlsSocket = tlsConnect({
          socket: raw,
          host: req.ip,
          ...(isIP(host) === 0 ? { servername: host } : {}),
          ALPNProtocols: alpnFor(req.httpVersion),
          rejectUnauthorized: false,
          ...(context ? { secureContext: context } : {}),
        });
        cleanups.push(() => tlsSocket.destroy());
        tlsSocket.on('error', onError);
        tlsSocket.once('secureConnect', () => {
          stamp('tls');
          readTls = captureTls(tlsSocket);
          if (!tlsSocket.authorized) {
            const error = tlsSocket.authorizationError ? String(tlsSocket.authorizationError) : '';
            const code = TLS_ERROR_CODES[error] ?? 'TLS_CERT_UNTRUSTED';
            fail(
              new CheckFailure(
                code,
                `certificate of ${host} at ${hostPort(req.ip, port)} is not valid: ${error}`,
                'tls',
              ),
            );
            return;
          }
          currentPhase = 'request';
          // The request leaves on the next turn, after Node has written its TLS Finished, as curl's
          // does. Written from this callback it left in the Finished's segment, the server's session
          // tickets came back in the response's, were read first, and the first byte was stamped
          // 0.4-0.8 ms after the response reached the host (a capture of the same connections:
          // bench/cli-phases.mjs); on the next turn, 0.2-0.5 ms.
          setImmediate(() => {
            if (!flow.isSettled()) this.send(req, tlsSocket, tlsSocket.alpnProtocol === 'h2' ? 'h2' : 'http/1.1', flow);
          });
        });
      });
      connectStamped(
        raw,
        { host: req.ip, port, ...(req.sourceAddress ? { localAddress: req.sourceAddress } : {}) },
        () => {
          startNs = this.clock.monotonicNs();
        },
      );
    });
  }

  private send(req: HttpsRequest, socket: Socket, protocol: 'h2' | 'http/1.1', flow: Flow): void {
    const { stamp, setPhase, fail } = flow;
    const path = `${req.url.pathname}${req.url.search}`;
    const body = req.body === undefined ? undefined : Buffer.from(req.body);
    const chunks: Buffer[] = [];
    let kept = 0;
    let bodyBytes = 0;
    const finish = (status: number, httpVersion: string, headers: IncomingHttpHeaders, truncated: boolean): void => {
      stamp('transfer');
      flow.done({
        status,
        httpVersion,
        headers,
        body: Buffer.concat(chunks),
        bodyBytes,
        bodyTruncated: truncated,
        tls: flow.tls(),
      });
    };
    /**
     * Takes one chunk of the body; true when the body went past `maxBodyBytes`, and the exchange
     * has then ended (the connection closes with it): a hostile or broken server may send forever.
     */
    const collect = (chunk: Buffer, status: number, httpVersion: string, headers: IncomingHttpHeaders): boolean => {
      if (flow.isSettled()) return true;
      bodyBytes += chunk.length;
      if (kept < req.maxBodyBytes) {
        const part = chunk.subarray(0, req.maxBodyBytes - kept);
        chunks.push(part);
        kept += part.length;
      }
      if (bodyBytes <= req.maxBodyBytes) return false;
      finish(status, httpVersion, headers, true);
      return true;
    };
    /** A declared length past the limit ends the exchange before any of the body is read. */
    const declaredTooLong = (status: number, headers: IncomingHttpHeaders): boolean => {
      const declared = Number(headers['content-length']);
      return Number.isFinite(declared) && declared > req.maxBodyBytes && hasBody(req.method, status);
    };
    const protocolError = (err: Error): void =>
      fail(new CheckFailure('HTTP_PROTOCOL_ERROR', `${req.url.href}: ${err.message}`, 'response', { cause: err }));

    if (protocol === 'h2') {
      const session = http2Connect(req.url.origin, { createConnection: () => socket });
      flow.onCleanup(() => session.destroy());
      session.on('error', protocolError);
      const stream = session.request({ ':method': req.method, ':path': path, ...lowerCase(req.headers) });
      stream.on('error', protocolError);
      stream.once('finish', () => {
        stamp('request');
        setPhase('firstByte');
      });
      stream.once('response', (h2Headers) => {
        stamp('firstByte');
        stamp('headers');
        setPhase('transfer');
        const headers = h2Headers as IncomingHttpHeaders;
        const status = Number(h2Headers[':status']);
        if (declaredTooLong(status, headers)) {
          stream.close(http2Constants.NGHTTP2_CANCEL);
          return finish(status, '2', headers, true);
        }
        stream.on('data', (chunk: Buffer) => {
          if (collect(chunk, status, '2', headers)) stream.close(http2Constants.NGHTTP2_CANCEL);
        });
        // Finishing destroys the session with the socket (the cleanups), as it does on a failure.
        stream.once('end', () => finish(status, '2', headers, false));
      });
      stream.end(body);
      return;
    }
    // No agent: with `createConnection` and no agent, Node uses our (already TLS) socket as is.
    const request = httpRequest({
      method: req.method,
      path,
      headers: { host: req.url.host, ...req.headers, ...(body ? { 'content-length': String(body.length) } : {}) },
      createConnection: () => socket,
    });
    request.on('error', protocolError);
    let answered = false;
    request.once('finish', () => {
      stamp('request');
      if (!answered) setPhase('firstByte');
    });
    // The first read: the real first byte. Prepended, so it runs before the HTTP parser's own
    // listener turns the same chunk into a 'response'; from there until the parser has the whole
    // header block, a stall is in the headers. Listening from before the write, not from 'finish':
    // the write's callback (TLS) can come after a fast server's answer, whose first byte was then
    // never stamped; the request was out by then, so its stamp is taken too if it is missing.
    socket.prependOnceListener('data', () => {
      answered = true;
      stamp('request');
      stamp('firstByte');
      setPhase('headers');
    });
    request.once('response', (res: IncomingMessage) => {
      stamp('headers');
      setPhase('transfer');
      const status = res.statusCode ?? 0;
      if (declaredTooLong(status, res.headers)) return finish(status, res.httpVersion, res.headers, true);
      res.on('data', (chunk: Buffer) => collect(chunk, status, res.httpVersion, res.headers));
      res.once('end', () => finish(status, res.httpVersion, res.headers, false));
      res.on('error', protocolError);
    });
    request.end(body);
  }
}

/** The parts of an exchange in flight that `send` works with. */
interface Flow {
  stamp: (phase: string) => void;
  setPhase: (phase: string) => void;
  done: (value: Omit<HttpsExchange, 'phasesMs'>) => void;
  fail: (failure: CheckFailure) => void;
  onCleanup: (cleanup: () => void) => void;
  isSettled: () => boolean;
  /** The handshake's facts, read when the exchange is over (null for plain HTTP). */
  tls: () => TlsFacts | null;
}

function alpnFor(version: HttpsRequest['httpVersion']): string[] {
  return version === '2' ? ['h2'] : version === '1.1' ? ['http/1.1'] : ['h2', 'http/1.1'];
}

/** Whether a response to `method` with `status` carries a body (RFC 9110: not HEAD, 1xx, 204, 304). */
function hasBody(method: string, status: number): boolean {
  return method !== 'HEAD' && status >= 200 && status !== 204 && status !== 304;
}

function lowerCase(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

function socketFailure(err: NodeJS.ErrnoException, phase: string, req: HttpsRequest, port: number): CheckFailure {
  const where = hostPort(req.ip, port);
  const local = localResourceFailure(err, `connect to ${where}`, phase);
  if (local) return local;
  if (phase === 'connect') {
    const code: FailureCode = err.code === 'ECONNREFUSED' ? 'HTTP_CONNECT_REFUSED' : 'HTTP_CONNECT_FAILED';
    return new CheckFailure(code, `connect to ${where} failed: ${err.code ?? err.message}`, 'connect', { cause: err });
  }
  if (phase === 'tls')
    return new CheckFailure('TLS_HANDSHAKE', `TLS handshake with ${where} failed: ${err.message}`, 'tls', {
      cause: err,
    });
  return new CheckFailure(
    'HTTP_PROTOCOL_ERROR',
    `${req.url.href} via ${where}: ${err.code ?? err.message} during ${phase}`,
    phase,
    { cause: err },
  );
}
