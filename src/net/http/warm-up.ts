import { createSecureServer } from 'node:http2';
import type { Http2SecureServer } from 'node:http2';
import type { HttpsExchange, HttpsRequest } from './https-exchange.js';
import { secureContextFor } from './secure-contexts.js';
import { throwawayCertificate } from './throwaway-cert.js';

/** Long enough for a loaded machine, short enough that a broken loopback does not hold a run. */
const WARM_UP_TIMEOUT_MS = 2_000;

/**
 * Runs `exchange` against a loopback server of our own (a throwaway certificate, HTTP/2 and
 * HTTP/1.1 by ALPN), once per protocol, and builds the default context (the bundled roots). A
 * fresh process otherwise pays OpenSSL's first handshake, the HTTP parser's and HTTP/2's first use
 * inside the first run's connect, tls and first-byte phases (25 ms, 6 ms and 40 ms measured).
 * Failures are ignored: without loopback the first run is merely slow.
 */
export async function warmUpHttps(exchange: (req: HttpsRequest) => Promise<HttpsExchange>): Promise<void> {
  const signal = AbortSignal.timeout(WARM_UP_TIMEOUT_MS);
  let server: Http2SecureServer | undefined;
  try {
    const { cert, key } = throwawayCertificate();
    server = createSecureServer({ cert, key, allowHTTP1: true }, (_req, res) => res.end('warm'));
    secureContextFor({});
    const listening = server;
    await new Promise<void>((resolve, reject) => listening.once('error', reject).listen(0, '127.0.0.1', resolve));
    const { port } = listening.address() as { port: number };
    for (const httpVersion of ['2', '1.1'] as const) {
      await exchange({
        url: new URL(`https://127.0.0.1:${port}/`),
        ip: '127.0.0.1',
        method: 'GET',
        headers: {},
        httpVersion,
        maxBodyBytes: 1024,
        ca: cert,
        signal,
      });
    }
  } catch {
    // Only a warm-up.
  } finally {
    server?.close();
  }
}
