import { X509Certificate } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { once } from 'node:events';
import { createServer as createHttpServer } from 'node:http';
import { createSecureServer } from 'node:http2';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { createServer as createTlsServer } from 'node:tls';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import type { CheckResult } from '../../src/checks/check.js';
import { httpsKind } from '../../src/checks/https/index.js';
import { statusMatches } from '../../src/checks/https/https-check.js';
import { httpsSettingsSchema } from '../../src/checks/https/https-settings.js';
import type { HttpsFields } from '../../src/checks/https/https-settings.js';
import { systemClock } from '../../src/clock.js';
import { RunDeadlineExceeded } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import { HttpsClient, HttpsFailure } from '../../src/net/http/https-client.js';
import type { HttpsExchange } from '../../src/net/http/https-client.js';
import { secureContextFor } from '../../src/net/http/secure-contexts.js';
import { throwawayCertificate } from '../../src/net/http/throwaway-cert.js';
import { PLAIN_ROUNDS, warmUpHttps } from '../../src/net/http/warm-up.js';
import { SystemResolver } from '../../src/net/system-resolver.js';
import { fakeNet } from '../helpers/fake-net.js';
import { makeWebCerts } from '../helpers/web-certs.js';

const sockets = new Set<Socket>();
const hang = createServer((s) => {
  sockets.add(s);
  s.on('error', () => undefined);
});
const web = createHttpServer((req, res) => {
  // Status line and headers at once, the body 300 ms later: transfer must carry the pause.
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '4' });
  res.write('ab');
  setTimeout(() => res.end('cd'), 300);
});
let hangPort = 0;
let webPort = 0;

beforeAll(async () => {
  hang.listen(0, '127.0.0.1');
  web.listen(0, '127.0.0.1');
  await Promise.all([once(hang, 'listening'), once(web, 'listening')]);
  hangPort = (hang.address() as { port: number }).port;
  webPort = (web.address() as { port: number }).port;
});
afterAll(() => {
  for (const s of sockets) s.destroy();
  hang.close();
  web.close();
});

const client = new HttpsClient(systemClock);
function exchange(port: number, timeoutMs: number) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new RunDeadlineExceeded(timeoutMs)), timeoutMs);
  return client
    .exchange({
      url: new URL(`http://localhost:${port}/x`),
      ip: '127.0.0.1',
      method: 'GET',
      headers: {},
      httpVersion: '1.1',
      maxBodyBytes: 1024,
      signal: controller.signal,
    })
    .finally(() => clearTimeout(timer));
}

describe('HTTP exchange on loopback', () => {
  it('times each phase on one fresh connection and reads the body', async () => {
    const x = await exchange(webPort, 2_000);
    expect(x.status).toBe(200);
    expect(x.body.toString()).toBe('abcd');
    expect(x.phasesMs.connect).toBeGreaterThan(0);
    expect(x.phasesMs.request).toBeGreaterThanOrEqual(x.phasesMs.connect!);
    expect(x.phasesMs.firstByte).toBeGreaterThanOrEqual(x.phasesMs.request!);
    // The server's 300 ms pause inside the body lands in transfer. Its start is the moment the
    // headers were read, which a loaded event loop (shared with the server here) can delay: half
    // the pause tells the right phase from the wrong one. The stamps are cumulative from the
    // connection start, so the last one holds all of the pause (less the timer's 1 ms granularity).
    expect(x.phasesMs.transfer! - x.phasesMs.headers!).toBeGreaterThanOrEqual(150);
    expect(x.phasesMs.transfer).toBeGreaterThanOrEqual(299);
  });

  it('ends a server that accepts and never answers at the timeout, coded by phase, freeing the socket', async () => {
    const before = process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length - sockets.size;
    const started = performance.now();
    const err = await exchange(hangPort, 300).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpsFailure);
    expect(err).toMatchObject({ code: 'HTTP_TIMEOUT', phase: 'firstByte' });
    // At the timeout, not before it (an early give-up would also be HTTP_TIMEOUT) and not long after.
    expect(performance.now() - started).toBeGreaterThanOrEqual(299);
    expect(performance.now() - started).toBeLessThan(600);
    await new Promise((r) => setImmediate(r));
    expect(
      process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length - sockets.size,
    ).toBeLessThanOrEqual(before);
  });

  it.each([
    ['2xx', 204, true],
    ['2xx', 301, false],
    [301, 301, true],
    ['200-399', 302, true],
    ['200-399', 404, false],
  ] as Array<[string | number, number, boolean]>)('status rule %s against %d: %s', (rule, status, ok) => {
    expect(statusMatches(rule, status)).toBe(ok);
  });
});

// Hostile peers (issue 12). Each binds 127.0.0.1 port 0, counts what it managed to send, and
// stops on its own after SEND_CAP bytes, so even a client that never stops reading ends the test.

const CERT_FILE = new URL('../fixtures/pem/localhost.crt', import.meta.url).pathname;
const KEY_FILE = new URL('../fixtures/pem/localhost.key', import.meta.url).pathname;
const SEND_CAP = 256 * 2 ** 20;
const LIMIT = 65_536;
const CHUNK = Buffer.alloc(65_536, 'x');
const runLog = createLogger('silent');

/** A peer and what it saw: bytes each connection managed to send before it closed, requests. */
interface Peer {
  port: number;
  /** Bytes written per closed connection (raw TCP bytes, TLS records included). */
  sent: number[];
  connections: number;
  requests: string[];
  /** Resolves once `n` connections have closed (bounded: rejects after 3 s). */
  closed(n: number): Promise<void>;
  close(): Promise<void>;
}

function peer(server: Server, onConnection?: (socket: Socket) => void): Promise<Peer> {
  const sockets = new Set<Socket>();
  const state: Peer = {
    port: 0,
    sent: [],
    connections: 0,
    requests: [],
    closed: (n) =>
      new Promise<void>((resolve, reject) => {
        const started = Date.now();
        const poll = (): void => {
          if (state.sent.length >= n) resolve();
          else if (Date.now() - started > 3_000) reject(new Error(`${state.sent.length} of ${n} connections closed`));
          else setTimeout(poll, 10);
        };
        poll();
      }),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  server.on('connection', (socket: Socket) => {
    state.connections++;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.once('close', () => {
      sockets.delete(socket);
      state.sent.push(socket.bytesWritten);
    });
    onConnection?.(socket);
  });
  server.listen(0, '127.0.0.1');
  return once(server, 'listening').then(() => {
    state.port = (server.address() as { port: number }).port;
    return state;
  });
}

/** Writes `next()` chunks as fast as the peer reads them, until `total` bytes (then ends) or SEND_CAP. */
function pump(out: NodeJS.WritableStream & { writable: boolean }, total: number, frame = (b: Buffer) => b): void {
  let written = 0;
  const write = (): void => {
    while (out.writable && written < Math.min(total, SEND_CAP)) {
      const chunk = CHUNK.subarray(0, Math.min(CHUNK.length, total - written));
      written += chunk.length;
      if (!out.write(frame(chunk))) return;
    }
    if (!out.writable || written < Math.min(total, SEND_CAP)) return;
    if (total === Infinity) out.end();
    else out.end(frame(Buffer.alloc(0)));
  };
  out.on('drain', write);
  write();
}

/** Raw HTTP/1.1 peers: the head is written once the request has arrived, then the body as told. */
const BODIES = {
  'an endless body declaring Content-Length 1e11': {
    head: 'Content-Length: 100000000000\r\n',
    total: Infinity,
    chunked: false,
  },
  'an endless chunked body': { head: 'Transfer-Encoding: chunked\r\n', total: Infinity, chunked: true },
  'an endless body without a length (until close)': { head: 'Connection: close\r\n', total: Infinity, chunked: false },
  'a finite 10 MiB body with Content-Length': {
    head: `Content-Length: ${10 * 2 ** 20}\r\n`,
    total: 10 * 2 ** 20,
    chunked: false,
  },
  'a finite 10 MiB chunked body': { head: 'Transfer-Encoding: chunked\r\n', total: 10 * 2 ** 20, chunked: true },
} as const;

function rawHttpPeer(body: (typeof BODIES)[keyof typeof BODIES]): Promise<Peer> {
  const server = createServer();
  return peer(server, (socket) => {
    let request = '';
    socket.on('data', (d: Buffer) => {
      if (request.includes('\r\n\r\n')) return;
      request += d.toString('latin1');
      if (!request.includes('\r\n\r\n')) return;
      socket.write(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n${body.head}\r\n`);
      const chunk = (b: Buffer): Buffer =>
        Buffer.concat([Buffer.from(`${b.length.toString(16)}\r\n`), b, Buffer.from('\r\n')]);
      pump(socket, body.total, body.chunked ? chunk : undefined);
    });
  });
}

/** Runs the https check once, for real, against 127.0.0.1 with a run deadline. */
async function runCheck(
  url: string,
  settings: z.input<typeof httpsSettingsSchema>,
  timeoutMs: number,
): Promise<{ result: CheckResult<HttpsFields>; ms: number }> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new RunDeadlineExceeded(timeoutMs)), timeoutMs);
  const started = performance.now();
  try {
    const check = httpsKind.create(
      {
        name: 'hostile-https',
        kind: 'https',
        target: { name: 'hostile', host: '127.0.0.1', url, group: '', labels: {} },
        schedule: { type: 'interval', intervalMs: 60_000 },
        timeoutMs,
        settings: httpsSettingsSchema.parse(settings),
      },
      fakeNet({ resolver: new SystemResolver(), https: new HttpsClient(systemClock) }),
    );
    const [result] = await check.run({ signal: controller.signal, clock: systemClock, log: runLog });
    return { result: result!, ms: performance.now() - started };
  } finally {
    clearTimeout(timer);
  }
}

describe('max_body_bytes bounds what is read (issue 12 #1)', () => {
  const peers: Peer[] = [];
  afterAll(async () => {
    await Promise.all(peers.map((p) => p.close()));
  });

  it.each(Object.keys(BODIES) as Array<keyof typeof BODIES>)(
    'HTTP/1.1, %s: stops at max_body_bytes, closes, HTTP_BODY_TOO_LARGE',
    async (name) => {
      const server = await rawHttpPeer(BODIES[name]);
      peers.push(server);
      const { result, ms } = await runCheck(`http://127.0.0.1:${server.port}/`, { max_body_bytes: LIMIT }, 3_000);
      expect(result.error).toMatchObject({ code: 'HTTP_BODY_TOO_LARGE', phase: 'transfer' });
      expect(result.status).toBe(200);
      // Read on our side: at most one socket read past the limit.
      expect(result.contentLength).toBeLessThanOrEqual(LIMIT + CHUNK.length);
      // Not at the deadline: when the limit was passed.
      expect(ms).toBeLessThan(1_500);
      // Sent by the peer before our close stopped it: the limit plus what the loopback socket
      // buffers took in, never the body (the endless peers stop at 256 MiB on their own).
      await server.closed(1);
      expect(server.sent[0]).toBeLessThan(16 * 2 ** 20);
    },
  );

  describe('over TLS, HTTP/2 and HTTP/1.1', () => {
    let h2: Peer;
    beforeAll(async () => {
      const server = createSecureServer(
        { cert: readFileSync(CERT_FILE), key: readFileSync(KEY_FILE), allowHTTP1: true },
        (_req: Http2ServerRequest, res: Http2ServerResponse) => {
          res.on('error', () => undefined);
          res.writeHead(200, { 'content-type': 'text/plain' });
          pump(res, Infinity);
        },
      );
      server.on('sessionError', () => undefined);
      h2 = await peer(server);
    });
    afterAll(async () => {
      await h2.close();
    });

    it.each([
      ['2', '2'],
      ['1.1', '1.1'],
    ] as const)('HTTP/%s, an endless body: stops at max_body_bytes, closes', async (version, httpVersion) => {
      const before = h2.sent.length;
      const { result, ms } = await runCheck(
        `https://localhost:${h2.port}/`,
        { max_body_bytes: LIMIT, http_version: version, ca_file: CERT_FILE },
        3_000,
      );
      expect(result).toMatchObject({ httpVersion, status: 200 });
      expect(result.error).toMatchObject({ code: 'HTTP_BODY_TOO_LARGE', phase: 'transfer' });
      expect(result.contentLength).toBeLessThanOrEqual(LIMIT + CHUNK.length);
      expect(ms).toBeLessThan(1_500);
      await h2.closed(before + 1);
      expect(h2.sent[before]).toBeLessThan(16 * 2 ** 20);
    });
  });
});

describe('redirects lead only to http and https, and only to a URL (issue 12 #3)', () => {
  let trap: Peer;
  let redirector: Peer;
  const locations: Record<string, () => string> = {
    '/file': () => 'file:///etc/passwd',
    '/ftp': () => `ftp://127.0.0.1:${trap.port}/etc/passwd`,
    '/bad': () => 'ht!tp://[::zz',
    '/ok': () => `http://127.0.0.1:${trap.port}/fine`,
  };
  beforeAll(async () => {
    // Answers any HTTP request with 200: a redirect that reaches it was followed.
    trap = await peer(createServer(), (socket) => {
      socket.once('data', (d: Buffer) => {
        trap.requests.push(d.toString('latin1').split('\r\n')[0]!);
        socket.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok');
      });
    });
    const server = createHttpServer((req, res) => {
      redirector.requests.push(req.url ?? '');
      const location = Object.entries(locations).find(([prefix]) => req.url?.startsWith(prefix))?.[1]();
      res.writeHead(302, location === undefined ? {} : { location, 'content-length': '0' });
      res.end();
    });
    redirector = await peer(server);
  });
  afterAll(async () => {
    await Promise.all([trap.close(), redirector.close()]);
  });

  it.each([
    ['/file', 'HTTP_REDIRECT_REFUSED'],
    ['/ftp', 'HTTP_REDIRECT_REFUSED'],
    ['/bad', 'HTTP_BAD_REDIRECT'],
  ])('%s: %s after one request, nothing sent anywhere else', async (path, code) => {
    redirector.requests.length = 0;
    trap.requests.length = 0;
    const connections = trap.connections;
    const { result } = await runCheck(`http://127.0.0.1:${redirector.port}${path}`, {}, 3_000);
    expect(result).toMatchObject({ ok: false, status: 302, error: { code, phase: 'redirect' } });
    expect(result.error?.message).toContain(JSON.stringify(locations[path]!()));
    expect(redirector.requests).toEqual([path]);
    expect(trap.connections).toBe(connections);
    expect(trap.requests).toEqual([]);
  });

  it('the trap does see a redirect that is followed (the control)', async () => {
    trap.requests.length = 0;
    const { result } = await runCheck(`http://127.0.0.1:${redirector.port}/ok`, {}, 3_000);
    expect(result).toMatchObject({ ok: true, status: 200, url: `http://127.0.0.1:${trap.port}/fine` });
    expect(trap.requests).toEqual(['GET /fine HTTP/1.1']);
  });
});

describe('a stall inside the header block is phase headers (issue 12 #10)', () => {
  const PARTIAL = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Slow: ';
  let plain: Peer;
  let secure: Peer;
  const stall = (socket: Socket): void => {
    socket.once('data', () => socket.write(PARTIAL));
  };
  beforeAll(async () => {
    plain = await peer(createServer(), stall);
    const tlsServer = createTlsServer(
      { cert: readFileSync(CERT_FILE), key: readFileSync(KEY_FILE), ALPNProtocols: ['http/1.1'] },
      stall,
    );
    secure = await peer(tlsServer);
  });
  afterAll(async () => {
    await Promise.all([plain.close(), secure.close()]);
  });

  it.each(['http', 'https'] as const)('%s: HTTP_TIMEOUT in headers, the first byte stamped', async (scheme) => {
    const port = scheme === 'http' ? plain.port : secure.port;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new RunDeadlineExceeded(400)), 400);
    const err = await client
      .exchange({
        url: new URL(`${scheme}://localhost:${port}/`),
        ip: '127.0.0.1',
        method: 'GET',
        headers: {},
        httpVersion: '1.1',
        maxBodyBytes: 1024,
        ...(scheme === 'https' ? { ca: readFileSync(CERT_FILE, 'utf8') } : {}),
        signal: controller.signal,
      })
      .catch((e: unknown) => e)
      .finally(() => clearTimeout(timer));
    expect(err).toBeInstanceOf(HttpsFailure);
    expect(err).toMatchObject({
      code: 'HTTP_TIMEOUT',
      phase: 'headers',
      message: `the response headers from 127.0.0.1:${port} were not complete before the timeout`,
    });
    const { phasesMs } = err as HttpsFailure;
    expect(Object.keys(phasesMs)).toEqual(
      scheme === 'https' ? ['connect', 'tls', 'request', 'firstByte'] : ['connect', 'request', 'firstByte'],
    );
  });
});

describe('TLS warm-up and the shared context (issue 17)', () => {
  it('the warm-up exchanges verify the throwaway certificate, over HTTP/2 and 1.1, then plain HTTP/1.1', async () => {
    const seen: HttpsExchange[] = [];
    await warmUpHttps(async (req) => {
      const x = await client.exchange(req);
      seen.push(x);
      return x;
    });
    expect(seen.map((x) => [x.status, x.httpVersion, x.tls?.authorized])).toEqual([
      [200, '2', true],
      [200, '1.1', true],
      ...Array.from({ length: PLAIN_ROUNDS }, () => [200, '1.1', undefined]),
    ]);
  });

  it('makes a well-formed certificate every time (DER: no padded serial), valid now for 127.0.0.1', () => {
    for (let i = 0; i < 300; i++) {
      const x = new X509Certificate(throwawayCertificate().cert);
      expect(x.checkIP('127.0.0.1')).toBe('127.0.0.1');
      expect(x.verify(x.publicKey)).toBe(true);
      expect(Date.parse(x.validFrom)).toBeLessThan(Date.now());
      expect(Date.parse(x.validTo)).toBeGreaterThan(Date.now());
    }
  });

  it('keeps a bounded number of contexts, the least recently used dropped first', () => {
    const { cert } = throwawayCertificate();
    // The same certificate under 300 distinct keys (trailing newlines): 300 distinct file contents.
    const variant = (i: number): string => `${cert}${'\n'.repeat(i)}`;
    const first = secureContextFor({ ca: variant(0) });
    const second = secureContextFor({ ca: variant(1) });
    for (let i = 2; i < 300; i++) {
      secureContextFor({ ca: variant(i) });
      if (i % 100 === 0) expect(secureContextFor({ ca: variant(1) })).toBe(second);
    }
    expect(secureContextFor({ ca: variant(1) })).toBe(second);
    expect(secureContextFor({ ca: variant(0) })).not.toBe(first);
  });

  it('runs with the same CA share one SecureContext, and each run is still a full handshake', async () => {
    const { cert, key } = throwawayCertificate();
    const resumed: boolean[] = [];
    const server = createSecureServer({ cert, key, allowHTTP1: true }, (_req, res) => res.end('ok'));
    server.on('secureConnection', (s: TLSSocket) => resumed.push(s.isSessionReused()));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const { port } = server.address() as { port: number };
      for (const httpVersion of ['1.1', '2', '1.1'] as const) {
        const x = await client.exchange({
          url: new URL(`https://127.0.0.1:${port}/`),
          ip: '127.0.0.1',
          method: 'GET',
          headers: {},
          httpVersion,
          maxBodyBytes: 1024,
          ca: cert,
          signal: AbortSignal.timeout(5_000),
        });
        expect(x).toMatchObject({ status: 200, tls: { authorized: true } });
      }
      expect(resumed).toEqual([false, false, false]);
      expect(secureContextFor({ ca: cert })).toBe(secureContextFor({ ca: cert }));
      expect(secureContextFor({ ca: cert })).not.toBe(secureContextFor({}));
    } finally {
      server.close();
    }
  });
});

describe('what the handshake showed (the record of the presented chain)', () => {
  it('names subject, issuer and SANs and takes the earliest notAfter across the chain, verified or not', async () => {
    const certs = makeWebCerts();
    const server = createSecureServer(
      {
        cert: `${readFileSync(certs.server.cert, 'utf8')}${readFileSync(certs.ca, 'utf8')}`,
        key: readFileSync(certs.server.key),
        allowHTTP1: true,
      },
      (_req: Http2ServerRequest, res: Http2ServerResponse) => res.end('ok'),
    );
    // The run that does not trust the chain hangs up mid-handshake: the server hears of it, and carries on.
    server.on('sessionError', () => undefined);
    server.on('tlsClientError', () => undefined);
    const tls = await peer(server);
    try {
      const notAfter = (file: string): number => Date.parse(new X509Certificate(readFileSync(file)).validTo);
      const earliest = new Date(Math.min(notAfter(certs.ca), notAfter(certs.server.cert))).toISOString();
      const url = `https://localhost:${tls.port}/`;
      for (const caFile of [certs.ca, certs.stranger.cert]) {
        const { result } = await runCheck(url, { ca_file: caFile }, 3_000);
        expect(result.tls).toMatchObject({
          subject: 'localhost',
          issuer: 'Vantage Web Test CA',
          san: 'IP Address:127.0.0.1, DNS:localhost',
          certNotAfter: earliest,
          authorized: caFile === certs.ca,
        });
      }
    } finally {
      await tls.close();
      rmSync(certs.dir, { recursive: true, force: true });
    }
  });
});
