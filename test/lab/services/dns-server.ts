/**
 * The lab's DNS servers, run inside the hosts namespace: `auth` is authoritative for the lab zone;
 * `hijack` answers like a resolver that lies (other addresses for some names, NXDOMAIN rewritten to
 * an address). UDP and TCP on the same addresses; answers larger than the client's UDP size are
 * truncated (TC) so clients must retry over TCP. dns2 is used for the wire format only.
 *
 * The authoritative server also answers DNS over TLS (port 853) and DNS over HTTPS (POST or GET
 * /dns-query on port 443) when given the lab's certificates.
 *
 * Usage: node dns-server.js MODE TRUTH_JSON_FILE [CERTS_JSON_FILE]
 */
import { createSocket } from 'node:dgram';
import type { RemoteInfo } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Socket } from 'node:net';
import { Packet } from 'dns2';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTlsServer } from 'node:tls';
import type { LabCerts } from '../certs.js';
import type { LabTruth } from '../plan.js';
import { afterAtLeast } from './pause.js';

type Mode = 'auth' | 'hijack';
type Resource = InstanceType<typeof Packet.Resource>;

const [mode, truthFile, certsFile] = process.argv.slice(2) as [Mode, string, string | undefined];
const truth = JSON.parse(readFileSync(truthFile, 'utf8')) as LabTruth;
const dns = truth.dns;
const TTL = 300;
const SOA: Partial<Resource> = {
  name: dns.zone,
  type: Packet.TYPE.SOA,
  class: Packet.CLASS.IN,
  ttl: TTL,
  primary: `ns.${dns.zone}`,
  admin: `hostmaster.${dns.zone}`,
  serial: 2026112201,
  refresh: 3600,
  retry: 600,
  expiration: 86400,
  minimum: 60,
};

function rr(name: string, type: number, fields: Partial<Resource>): Resource {
  return { name, type, class: Packet.CLASS.IN, ttl: TTL, ...fields } as Resource;
}

/** Builds the answer to a query (without size limits). */
function answer(query: Packet): { response: Packet; delayMs: number } {
  const response = Packet.createResponseFromRequest(query);
  response.header.aa = mode === 'auth' ? 1 : 0;
  response.header.ra = mode === 'hijack' ? 1 : 0;
  const q = query.questions[0];
  if (!q) {
    response.header.rcode = 1; // FORMERR
    return { response, delayMs: 0 };
  }
  const name = q.name.toLowerCase().replace(/\.$/, '');
  const inZone = name === dns.zone || name.endsWith(`.${dns.zone}`);
  if (!inZone) {
    response.header.rcode = 5; // REFUSED: not our zone, and we do not recurse
    return { response, delayMs: 0 };
  }
  if (name === dns.servfailName) {
    response.header.rcode = 2;
    return { response, delayMs: 0 };
  }
  const delayMs = name === dns.slowName ? dns.slowDelayMs : 0;
  if (mode === 'hijack' && (dns.hijackedNames.includes(name) || (!(name in dns.records) && name !== dns.zone))) {
    if (q.type === Packet.TYPE.A) response.answers.push(rr(name, Packet.TYPE.A, { address: dns.hijackAddress.v4 }));
    if (q.type === Packet.TYPE.AAAA)
      response.answers.push(rr(name, Packet.TYPE.AAAA, { address: dns.hijackAddress.v6 }));
    return { response, delayMs };
  }
  if (name === dns.zone) {
    if (q.type === Packet.TYPE.SOA) response.answers.push(rr(name, Packet.TYPE.SOA, SOA));
    else if (q.type === Packet.TYPE.NS) response.answers.push(rr(name, Packet.TYPE.NS, { ns: `ns.${dns.zone}` }));
    else response.authorities.push(rr(name, Packet.TYPE.SOA, SOA));
    return { response, delayMs };
  }
  let current = name;
  for (let hops = 0; hops < 8; hops++) {
    const records = dns.records[current];
    if (!records) {
      response.header.rcode = 3; // NXDOMAIN
      response.authorities.push(rr(dns.zone, Packet.TYPE.SOA, SOA));
      return { response, delayMs };
    }
    if (records.cname && q.type !== Packet.TYPE.CNAME) {
      response.answers.push(rr(current, Packet.TYPE.CNAME, { domain: records.cname }));
      current = records.cname;
      continue;
    }
    if (records.cname) response.answers.push(rr(current, Packet.TYPE.CNAME, { domain: records.cname }));
    else if (q.type === Packet.TYPE.A)
      for (const address of records.a) response.answers.push(rr(current, Packet.TYPE.A, { address }));
    else if (q.type === Packet.TYPE.AAAA)
      for (const address of records.aaaa) response.answers.push(rr(current, Packet.TYPE.AAAA, { address }));
    if (response.answers.length === 0) response.authorities.push(rr(dns.zone, Packet.TYPE.SOA, SOA));
    return { response, delayMs };
  }
  response.header.rcode = 2;
  return { response, delayMs };
}

/** Encodes for the transport; over UDP an answer beyond the client's size is sent empty with TC. */
function encode(query: Packet, response: Packet, udp: boolean): Buffer {
  const opt = query.additionals.find((r) => r.type === Packet.TYPE.EDNS);
  if (opt) response.additionals.push({ ...Packet.Resource.EDNS([]), name: '' } as Resource);
  const full = response.toBuffer();
  const limit = opt ? Math.max(512, opt.class) : 512;
  if (!udp || full.length <= limit) return full;
  response.answers = [];
  response.authorities = [];
  response.header.tc = 1;
  return response.toBuffer();
}

function handle(buf: Buffer, udp: boolean, send: (reply: Buffer) => void): void {
  let query: Packet;
  try {
    query = Packet.parse(buf);
  } catch {
    return; // Malformed: a real server would drop it too.
  }
  const { response, delayMs } = answer(query);
  const reply = encode(query, response, udp);
  if (delayMs > 0) afterAtLeast(delayMs, () => send(reply));
  else send(reply);
}

/** Length-prefixed messages on a stream (TCP and DoT alike). */
function serveStream(socket: Socket): void {
  let pending = Buffer.alloc(0);
  socket.on('error', () => undefined);
  socket.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
      const message = pending.subarray(2, 2 + pending.readUInt16BE(0));
      pending = pending.subarray(2 + message.length);
      handle(message, false, (reply) => {
        const framed = Buffer.alloc(2 + reply.length);
        framed.writeUInt16BE(reply.length, 0);
        reply.copy(framed, 2);
        if (!socket.destroyed) socket.write(framed);
      });
    }
  });
}

async function listenTls(address: string, certs: LabCerts): Promise<void> {
  const options = { cert: readFileSync(certs.dns.cert), key: readFileSync(certs.dns.key) };
  const dot = createTlsServer(options, serveStream);
  dot.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve, reject) => dot.once('error', reject).listen(dns.dotPort, address, () => resolve()));
  const doh = createHttpsServer(options, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://lab');
    if (url.pathname !== dns.dohPath) {
      res.writeHead(404).end();
      return;
    }
    const reply = (body: Buffer): void => {
      handle(body, false, (answer) => res.writeHead(200, { 'content-type': 'application/dns-message' }).end(answer));
    };
    if (req.method === 'GET') {
      reply(Buffer.from(url.searchParams.get('dns') ?? '', 'base64url'));
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => reply(Buffer.concat(chunks)));
  });
  doh.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve, reject) => doh.once('error', reject).listen(443, address, () => resolve()));
}

async function listen(address: string): Promise<void> {
  const udp = createSocket(address.includes(':') ? 'udp6' : 'udp4');
  udp.on('message', (msg: Buffer, from: RemoteInfo) =>
    handle(msg, true, (reply) => udp.send(reply, from.port, from.address)),
  );
  await new Promise<void>((resolve, reject) => {
    udp.once('error', reject);
    udp.bind(dns.port, address, () => resolve());
  });
  const tcp = createServer(serveStream);
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen(dns.port, address, () => resolve());
  });
}

const server = mode === 'auth' ? dns.auth : dns.hijack;
await Promise.all([listen(server.v4), listen(server.v6)]);
if (certsFile) {
  const certs = JSON.parse(readFileSync(certsFile, 'utf8')) as LabCerts;
  await Promise.all([listenTls(server.v4, certs), listenTls(server.v6, certs)]);
}
process.stdout.write(`${JSON.stringify({ ready: true, service: `dns-${mode}` })}\n`);
