import { createServer } from 'node:http';
import { createSecureServer } from 'node:http2';
import type { AddressInfo, Server } from 'node:net';
import type { HttpsExchange, HttpsRequest } from './https-exchange.js';
import { secureContextFor } from './secure-contexts.js';
import { throwawayCertificate } from './throwaway-cert.js';

/** Long enough for a loaded machine, short enough that a broken loopback does not hold a run. */
const WARM_UP_TIMEOUT_MS = 2_000;

/**
 * Plain HTTP/1.1 exchanges after the TLS ones. Building and writing a request took 1.2-4 ms on a
 * process's first exchange, 0.4 ms on its second and 0.05 ms from about the twentieth (V8 compiles
 * hot code in tiers), and that time is in the request phase: curl writes its request within tens
 * of microseconds of the handshake. Without TLS they cost little: a few milliseconds in all.
 */
export const PLAIN_ROUNDS = 24;

type Exchange = (req: HttpsRequest) => Promise<HttpsExchange>;

/**
 * Runs `exchange` against loopback servers of our own: a throwaway certificate with HTTP/2 and
 * HTTP/1.1 by ALPN, once per protocol, then plain HTTP/1.1 PLAIN_ROUNDS times; and builds the
 * default context (the bundled roots). A fresh process otherwise pays OpenSSL's first handshake,
 * the HTTP parser's and HTTP/2's first use inside the first run's connect, tls and first-byte
 * phases (25 ms, 6 ms and 40 ms measured). Failures are ignored: without loopback the first run is
 * merely slow.
 */
export async function warmUpHttps(exchange: Exchange): Promise<void> {
  const signal = AbortSignal.timeout(WARM_UP_TIMEOUT_MS);
  const base = { ip: '127.0.0.1', method: 'GET', headers: {}, maxBodyBytes: 1024, signal };
  try {
    const { cert, key } = throwawayCertificate();
    secureContextFor({});
    await withServer(
      createSecureServer({ cert, key, allowHTTP1: true }, (_req, res) => res.end('warm')),
      async (port) => {
        for (const httpVersion of ['2', '1.1'] as const)
          await exchange({ ...base, url: new URL(`https://127.0.0.1:${port}/`), httpVersion, ca: cert });
      },
    );
    await withServer(
      createServer((_req, res) => res.end('warm')),
      async (port) => {
        for (let i = 0; i < PLAIN_ROUNDS; i++)
          await exchange({ ...base, url: new URL(`http://127.0.0.1:${port}/`), httpVersion: '1.1' });
      },
    );
  } catch {
    // Only a warm-up.
  }
}

/** Runs `use` with `server` listening on a 127.0.0.1 port, and closes it whatever happens. */
async function withServer(server: Server, use: (port: number) => Promise<void>): Promise<void> {
  try {
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
    await use((server.address() as AddressInfo).port);
  } finally {
    server.close();
  }
}
