// @ts-check
// Local targets for benchmarks' https and dns checks, on 127.0.0.1 port 0: an HTTPS server
// (HTTP/1.1, the given certificate) answering "ok", and a UDP DNS server answering every A question
// with 127.0.0.1 (authoritative, TTL 300).
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { Packet } from 'dns2';
import { LOOPBACK } from './http.mjs';

/** @import { AddressInfo } from 'node:net' */

/**
 * @param {string} certFile PEM certificate
 * @param {string} keyFile PEM key
 * @param {{ dnsDelayMs?: number }} [options] how long the DNS server holds each answer (a slow resolver)
 * @returns {Promise<{ httpsPort: number, dnsPort: number, close: () => void }>}
 */
export async function startLocalTargets(certFile, keyFile, { dnsDelayMs = 0 } = {}) {
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
    const send = () => udp.send(response.toBuffer(), from.port, from.address);
    if (dnsDelayMs > 0) setTimeout(send, dnsDelayMs);
    else send();
  });
  await new Promise((resolve, reject) => {
    udp.once('error', reject);
    udp.bind(0, LOOPBACK, () => resolve(undefined));
  });
  return {
    httpsPort: /** @type {AddressInfo} */ (https.address()).port,
    dnsPort: udp.address().port,
    close: () => {
      https.closeAllConnections();
      https.close();
      udp.close();
    },
  };
}
