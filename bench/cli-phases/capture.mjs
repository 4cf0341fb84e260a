// @ts-check
// Issue 17's wire reference for the https phases: a tcpdump capture on lo (kernel stamps, ns) of
// the HTTPS target's port while `vantage probe https` and curl connect to it one at a time, and a
// small pcap reader that derives each flow's phases from the packets themselves. Neither tool's own
// clock is the reference for the tls / request boundary (Node reports the handshake done before its
// Finished is written, curl after its Finished is out and the certificate checked), the wire is.
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { spawnTracked, stopChild } from '../lib/proc.mjs';

/** @import { TrackedChild } from '../lib/proc.mjs' */

const PCAP_NANO_MAGIC = 0xa1b23c4d;
const LINKTYPE_ETHERNET = 1;
const ETHERTYPE_IPV4 = 0x0800;
const TCP_PROTOCOL = 6;
const UDP_PROTOCOL = 17;
const [SYN, ACK] = [0x02, 0x10];
const [TLS_HANDSHAKE, TLS_APPLICATION_DATA] = [0x16, 0x17];
const TLS_RECORD_HEADER = 5;

/**
 * One TCP segment of the target's port: `t` in ms since the capture's first packet.
 * @typedef {{ t: number, fromClient: boolean, clientPort: number, flags: number, seq: number, payload: Buffer }}
 *   Segment
 */

/**
 * A TLS record seen on the wire: `t` is when the segment carrying its last byte was stamped.
 * @typedef {{ type: number, length: number, t: number }} WireRecord
 */

/**
 * A flow's phases from its packets, ms: connect = SYN -> SYN-ACK; tls = SYN-ACK -> the client's
 * Finished out; requestFirstByte = the Finished out -> the server's response record in (the request
 * leaves with the Finished or after it); tlsToFirstByte = their sum, which has no inner boundary;
 * toFirstByte = SYN -> the response record in; finishedToRequest = the client's own time between its
 * Finished out and its request out (0 when they leave in one segment).
 * @typedef {{ clientPort: number, tls13: boolean, finishedWithRequest: boolean, connect: number,
 *   tls: number, requestFirstByte: number, tlsToFirstByte: number, toFirstByte: number,
 *   finishedToRequest: number }} WirePhases
 */

/**
 * Starts tcpdump on lo for `protocol` port `port` of 127.0.0.1, writing to `file` packet by packet (-U);
 * resolves once it listens. --immediate-mode: without it the kernel ring hands packets over a block
 * at a time (full, or after a 1 s timeout), and the last connections were lost when it stopped.
 * `stop()` ends it (SIGTERM: it closes the file first).
 * @param {number} port
 * @param {string} file
 * @param {'tcp' | 'udp'} [protocol]
 * @returns {Promise<{ stop: () => Promise<void> }>}
 */
export async function startCapture(port, file, protocol = 'tcp') {
  /** @type {TrackedChild} */
  const child = spawnTracked('tcpdump', [
    ...['-i', 'lo', '-n', '--immediate-mode', '-U', '-Z', 'root', '--time-stamp-precision=nano', '-w', file],
    `host 127.0.0.1 and ${protocol} port ${port}`,
  ]);
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tcpdump did not start:\n${child.output()}`)), 10_000);
    child.stderr?.on('data', (chunk) => {
      if (!String(chunk).includes('listening on')) return;
      clearTimeout(timer);
      resolve(undefined);
    });
    void child.exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`tcpdump exited:\n${child.output()}`));
    });
  });
  return { stop: async () => void (await stopChild(child)) };
}

/**
 * Runs each tool `runs` times, the tools in turn with `pauseMs` between any two (one tool's
 * connection is over before the next one's starts, so the n-th exchange on the wire is the n-th
 * run), under a capture of `protocol` port `port` written to `file`; resolves with each tool's results.
 * @template T
 * @param {{ port: number, file: string, protocol?: 'tcp' | 'udp', runs: number, pauseMs: number,
 *   tools: Array<{ run: () => Promise<T> }> }} o
 * @returns {Promise<T[][]>}
 */
export async function inTurnsUnderCapture(o) {
  /** @type {T[][]} */
  const results = o.tools.map(() => []);
  const capture = await startCapture(o.port, o.file, o.protocol);
  try {
    for (let i = 0; i < o.runs; i++) {
      for (const [k, tool] of o.tools.entries()) {
        results[k]?.push(await tool.run());
        await sleep(o.pauseMs);
      }
    }
  } finally {
    await capture.stop();
  }
  return results;
}

/**
 * The IPv4 packets of a nanosecond pcap of lo (Ethernet framing): `t` in ms since its first packet,
 * the IP protocol, and the transport header and payload.
 * @param {Buffer} buf
 * @returns {Generator<{ t: number, protocol: number, transport: Buffer }>}
 */
function* ipv4Packets(buf) {
  if (buf.readUInt32LE(0) !== PCAP_NANO_MAGIC) throw new Error('not a little-endian nanosecond pcap');
  if (buf.readUInt32LE(20) !== LINKTYPE_ETHERNET) throw new Error(`link type ${buf.readUInt32LE(20)}, not Ethernet`);
  /** @type {bigint | undefined} */
  let first;
  for (let at = 24; at + 16 <= buf.length;) {
    const ns = BigInt(buf.readUInt32LE(at)) * 1_000_000_000n + BigInt(buf.readUInt32LE(at + 4));
    const caplen = buf.readUInt32LE(at + 8);
    const frame = buf.subarray(at + 16, at + 16 + caplen);
    at += 16 + caplen;
    first ??= ns;
    if (frame.length < 14 + 20 || frame.readUInt16BE(12) !== ETHERTYPE_IPV4) continue;
    const ip = frame.subarray(14);
    const ipHeader = (ip.readUInt8(0) & 0x0f) * 4;
    yield {
      t: Number(ns - first) / 1e6,
      protocol: ip.readUInt8(9),
      transport: ip.subarray(ipHeader, ip.readUInt16BE(2)),
    };
  }
}

/**
 * The TCP segments to or from `serverPort` in a nanosecond pcap of lo (Ethernet framing, IPv4).
 * @param {Buffer} buf
 * @param {number} serverPort
 * @returns {Segment[]}
 */
export function readSegments(buf, serverPort) {
  /** @type {Segment[]} */
  const out = [];
  for (const { t, protocol, transport: tcp } of ipv4Packets(buf)) {
    if (protocol !== TCP_PROTOCOL) continue;
    const [src, dst] = [tcp.readUInt16BE(0), tcp.readUInt16BE(2)];
    if (src !== serverPort && dst !== serverPort) continue;
    out.push({
      t,
      fromClient: dst === serverPort,
      clientPort: dst === serverPort ? src : dst,
      flags: tcp.readUInt8(13),
      seq: tcp.readUInt32BE(4),
      payload: tcp.subarray((tcp.readUInt8(12) >> 4) * 4),
    });
  }
  return out;
}

/**
 * The UDP datagrams to or from `serverPort` in a nanosecond pcap of lo (Ethernet framing, IPv4).
 * @param {Buffer} buf
 * @param {number} serverPort
 * @returns {Array<{ t: number, fromClient: boolean, clientPort: number, payload: Buffer }>}
 */
export function readDatagrams(buf, serverPort) {
  return [...ipv4Packets(buf)].flatMap(({ t, protocol, transport: udp }) => {
    if (protocol !== UDP_PROTOCOL || udp.length < 8) return [];
    const [src, dst] = [udp.readUInt16BE(0), udp.readUInt16BE(2)];
    if (src !== serverPort && dst !== serverPort) return [];
    return [
      { t, fromClient: dst === serverPort, clientPort: dst === serverPort ? src : dst, payload: udp.subarray(8) },
    ];
  });
}

/**
 * One direction's TLS records, from its payload bytes in sequence order (a retransmitted or
 * overlapping segment adds only its new bytes).
 * @param {Segment[]} segments
 * @returns {WireRecord[]}
 */
function records(segments) {
  /** @type {WireRecord[]} */
  const out = [];
  let stream = Buffer.alloc(0);
  /** @type {number | undefined} */
  let next;
  for (const s of segments) {
    if (s.payload.length === 0) continue;
    next ??= s.seq;
    const fresh = s.payload.subarray(Math.max(0, (next - s.seq) | 0));
    if (fresh.length === 0) continue;
    next = (next + fresh.length) >>> 0;
    stream = Buffer.concat([stream, fresh]);
    while (stream.length >= TLS_RECORD_HEADER) {
      const length = stream.readUInt16BE(3);
      if (stream.length < TLS_RECORD_HEADER + length) break;
      out.push({ type: stream.readUInt8(0), length, t: s.t });
      stream = stream.subarray(TLS_RECORD_HEADER + length);
    }
  }
  return out;
}

/**
 * A flow's phases, or undefined when it did not get as far as a response.
 *
 * The client's Finished: in TLS 1.3 (the server's first flight already holds application-data
 * records) its first 0x17 record, in TLS 1.2 its last handshake record before its first 0x17. The
 * request is its next 0x17 record. The response is the server's first 0x17 record after the
 * request whose length is not that of a NewSessionTicket record: in TLS 1.3 the server sends its
 * tickets once it has the Finished, which may be before or after it has the request, and they can
 * only be told from the response by length (all tickets of one server have the same length,
 * `ticketLength`, which `wirePhases` learns from the flows).
 * @param {Segment[]} flow this flow's segments in capture order
 * @param {number | undefined} ticketLength
 * @returns {(WirePhases & { afterFinished: number[] }) | undefined}
 */
function flowPhases(flow, ticketLength) {
  const syn = flow.find((s) => s.fromClient && s.flags & SYN && !(s.flags & ACK));
  const synAck = flow.find((s) => !s.fromClient && s.flags & SYN && s.flags & ACK);
  const client = records(flow.filter((s) => s.fromClient));
  const server = records(flow.filter((s) => !s.fromClient));
  const firstApp = client.findIndex((r) => r.type === TLS_APPLICATION_DATA);
  const firstAppT = client[firstApp]?.t;
  if (!syn || !synAck || firstAppT === undefined) return undefined;
  const tls13 = server.some((r) => r.type === TLS_APPLICATION_DATA && r.t <= firstAppT);
  const finishedAt = tls13 ? firstApp : client.findLastIndex((r, i) => i < firstApp && r.type === TLS_HANDSHAKE);
  const finished = client[finishedAt];
  const request = client.find((r, i) => i > finishedAt && r.type === TLS_APPLICATION_DATA);
  if (!finished || !request) return undefined;
  const afterFinished = server.filter((r) => r.type === TLS_APPLICATION_DATA && r.t >= finished.t);
  const response = afterFinished.find((r) => r.t >= request.t && r.length !== ticketLength);
  if (!response) return undefined;
  return {
    clientPort: syn.clientPort,
    tls13,
    finishedWithRequest: finished.t === request.t,
    connect: synAck.t - syn.t,
    tls: finished.t - synAck.t,
    requestFirstByte: response.t - finished.t,
    tlsToFirstByte: response.t - synAck.t,
    toFirstByte: response.t - syn.t,
    finishedToRequest: request.t - finished.t,
    afterFinished: afterFinished.map((r) => r.length),
  };
}

/**
 * Every flow to `serverPort` in a capture file, in the order its first packet was seen: its
 * phases, or only its client port when it did not get as far as a response.
 *
 * The ticket length: a TLS 1.3 server writes its NewSessionTickets as soon as it has read the
 * Finished, before it reads the request, so its first 0x17 record after the Finished is a ticket
 * in every flow that has more after it; when all flows agree on that length it is the ticket's.
 * @param {string} file
 * @param {number} serverPort
 * @returns {Array<WirePhases | { clientPort: number }>}
 */
export function wirePhases(file, serverPort) {
  /** @type {Map<number, Segment[]>} */
  const flows = new Map();
  for (const s of readSegments(readFileSync(file), serverPort)) {
    const list = flows.get(s.clientPort) ?? [];
    if (list.length === 0) flows.set(s.clientPort, list);
    list.push(s);
  }
  const untyped = [...flows.values()].map((f) => flowPhases(f, undefined));
  const lengths = untyped.flatMap((p) => (p && p.afterFinished.length > 1 ? [p.afterFinished[0]] : []));
  const ticketLength = lengths.length > 0 && lengths.every((l) => l === lengths[0]) ? lengths[0] : undefined;
  return [...flows].map(([clientPort, f]) => {
    const p = flowPhases(f, ticketLength);
    if (!p) return { clientPort };
    const { afterFinished, ...phases } = p;
    void afterFinished; // only the ticket length needed it
    return phases;
  });
}
