// @ts-check
// The scale benchmark's targets (spawned by bench/scale.mjs, in a process of its own so their CPU is
// not the agent's nor the scraper's): an HTTPS server (HTTP/1.1, ECDSA certificate: a cheap
// handshake) and a UDP DNS server answering every A question with 127.0.0.1, both on 127.0.0.1,
// port 0. Prints `{"httpsPort": N, "dnsPort": N}` once both listen, then serves until killed or
// until MAX_MS have passed (a bound in case its parent dies without killing it).
// Usage: node bench/_scale-servers.mjs CERT_FILE KEY_FILE MAX_MS [DNS_DELAY_MS]
import { startLocalTargets } from './lib/local-targets.mjs';

const [certFile = '', keyFile = '', maxMs = '60000', dnsDelayMs = '0'] = process.argv.slice(2);
const { httpsPort, dnsPort } = await startLocalTargets(certFile, keyFile, { dnsDelayMs: Number(dnsDelayMs) });

setTimeout(() => process.exit(0), Number(maxMs)).unref();
process.on('SIGTERM', () => process.exit(0));
process.stdout.write(`${JSON.stringify({ httpsPort, dnsPort })}\n`);
