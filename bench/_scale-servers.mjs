// @ts-check
// The scale benchmark's targets (spawned by bench/scale.mjs, in a process of its own so their CPU is
// not the agent's nor the scraper's): an HTTPS server (HTTP/1.1, ECDSA certificate: a cheap
// handshake) and a UDP DNS server answering every A question with 127.0.0.1, both on 127.0.0.1,
// port 0. Prints `{"httpsPort": N, "dnsPort": N}` once both listen, then serves until killed or
// until MAX_MS have passed (a bound in case its parent dies without killing it).
// Usage: node bench/_scale-servers.mjs CERT_FILE KEY_FILE MAX_MS
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { Packet } from 'dns2';

/** @import { AddressInfo } from 'node:net' */

const [certFile = '', keyFile = '', maxMs = '60000'] = process.argv.slice(2);
const LOOPBACK = '127.0.0.1';

const https = createServer({ cert: readFileSync(certFile), key: readFileSync(keyFile) }, (_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '3' }).end('ok\n');
});
https.on('tlsClientError', () => undefined);
await new Promise((resolve, reject) => https.once('error', reject).listen(0, LOOPBACK, () => resolve(undefined)));

const udp = createSocket('udp4');
udp.on('message', (msg, from) => {
  let query;
  try {
    query = Packet.parse(msg);
  } catch {
    return;
  }
  const response = Packet.createResponseFromRequest(query);
  response.header.aa = 1;
  const q = query.questions[0];
  if (q && q.type === Packet.TYPE.A)
    response.answers.push(Packet.createResourceFromQuestion(q, { ttl: 300, address: LOOPBACK }));
  udp.send(response.toBuffer(), from.port, from.address);
});
await new Promise((resolve, reject) => {
  udp.once('error', reject);
  udp.bind(0, LOOPBACK, () => resolve(undefined));
});

setTimeout(() => process.exit(0), Number(maxMs)).unref();
process.on('SIGTERM', () => process.exit(0));
const httpsPort = /** @type {AddressInfo} */ (https.address()).port;
process.stdout.write(`${JSON.stringify({ httpsPort, dnsPort: udp.address().port })}\n`);
