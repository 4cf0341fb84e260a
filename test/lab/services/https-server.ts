/**
 * The lab's web server, run inside the hosts namespace: HTTP/2 and HTTP/1.1 (ALPN) over TLS with
 * the lab CA's certificates: a valid one, an expired one and one for the wrong name, each on its
 * own port. Paths inject known delays at the points an HTTPS check must tell apart:
 *   /ttfb/MS     wait MS before anything of the response (time to first byte)
 *   /headers/MS  HTTP/1.1: status line at once, the rest of the headers after MS (HTTP/2 sends all
 *                headers in one frame, so there it behaves like /ttfb)
 *   /body/MS     headers and half the body at once, the rest after MS
 *   /redirect/N  a chain of N redirects ending in 200
 *   /status/CODE that status;  /  200 "ok"
 *
 * Usage: node https-server.js TRUTH_JSON_FILE CERTS_JSON_FILE
 */
import { readFileSync } from 'node:fs';
import { createSecureServer } from 'node:http2';
import type { Http2ServerRequest } from 'node:http2';
import type { IncomingMessage } from 'node:http';
import type { LabTruth } from '../plan.js';
import { afterAtLeast } from './pause.js';
import type { LabCerts } from '../certs.js';

type Req = Http2ServerRequest | IncomingMessage;
/** What both protocols' response objects offer (Node types them separately). */
interface Res {
  writeHead(status: number, headers?: Record<string, string>): Res;
  write(chunk: string, done: () => void): boolean;
  end(chunk?: string): void;
}

const [truthFile, certsFile] = process.argv.slice(2) as [string, string];
const truth = JSON.parse(readFileSync(truthFile, 'utf8')) as LabTruth;
const certs = JSON.parse(readFileSync(certsFile, 'utf8')) as LabCerts;
const BODY = 'vantage lab body\n'.repeat(64);

function route(req: Req, res: Res): void {
  const [, head = '', arg = ''] = (req.url ?? '/').split('?')[0]!.split('/');
  const n = Number(arg);
  const later = (fn: () => void): void => afterAtLeast(Number.isFinite(n) ? n : 0, fn);
  switch (head) {
    case 'ttfb':
      later(() => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n'));
      return;
    case 'headers':
      if (req.httpVersion === '1.1') {
        // Bypass Node's response writer to split the header block on the wire.
        const socket = (req as IncomingMessage).socket;
        // The pause starts once the first part is handed to the kernel, so the wire gap is at least MS.
        socket.write('HTTP/1.1 200 OK\r\n', () =>
          later(() => socket.end('content-type: text/plain\r\ncontent-length: 3\r\nconnection: close\r\n\r\nok\n')),
        );
      } else {
        later(() => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n'));
      }
      return;
    case 'body': {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(BODY.length) });
      res.write(BODY.slice(0, BODY.length / 2), () => later(() => res.end(BODY.slice(BODY.length / 2))));
      return;
    }
    case 'redirect':
      if (n > 0) res.writeHead(302, { location: `/redirect/${n - 1}` }).end();
      else res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      return;
    case 'status':
      res.writeHead(Number.isInteger(n) && n >= 200 && n < 600 ? n : 400).end();
      return;
    case '':
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      return;
    default:
      res.writeHead(404).end();
  }
}

async function serve(port: number, pair: { cert: string; key: string }): Promise<void> {
  const options = { cert: readFileSync(pair.cert), key: readFileSync(pair.key), allowHTTP1: true };
  await Promise.all(
    [truth.https.v4, truth.https.v6].map(
      (address) =>
        new Promise<void>((resolve, reject) => {
          // The handler serves both protocols; Node types it per protocol.
          const server = createSecureServer(options, route as never);
          server.on('tlsClientError', () => undefined);
          server.once('error', reject);
          server.listen(port, address, () => resolve());
        }),
    ),
  );
}

await serve(truth.https.ports.valid, certs.valid);
await serve(truth.https.ports.expired, certs.expired);
await serve(truth.https.ports.wrongName, certs.wrongName);
process.stdout.write(`${JSON.stringify({ ready: true, service: 'https' })}\n`);
