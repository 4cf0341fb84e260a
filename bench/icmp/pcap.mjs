// @ts-check
// The ground truth of the accuracy runs: tcpdump in the agent namespace with nanosecond kernel
// stamps, and a reader for what it writes (ICMPv4 echo over Ethernet, nothing else).
import { readFile } from 'node:fs/promises';
import { delay } from '../lib/http.mjs';
import { spawnTracked, stopChild } from '../lib/proc.mjs';

/**
 * One ICMPv4 echo request (type 8) or reply (type 0) on the wire; tNs counts from the first packet.
 * @typedef {{ tNs: number, src: string, dst: string, type: number | undefined, id: number, seq: number }} Packet
 */

/**
 * A capture's packets and how many the kernel dropped (NaN when tcpdump did not say).
 * @typedef {{ packets: Packet[], dropped: number }} Capture
 */

/**
 * tcpdump on `iface` in `ns`, ICMP to/from `hosts` only, nanosecond kernel stamps, to `file`.
 * Resolves once it listens; `stop()` ends it and reads the file.
 * @param {string} ns
 * @param {string} iface
 * @param {readonly string[]} hosts
 * @param {string} file
 * @returns {Promise<{ stop: () => Promise<Capture> }>}
 */
export async function startCapture(ns, iface, hosts, file) {
  const filter = `icmp and (${hosts.map((h) => `host ${h}`).join(' or ')})`;
  const tcpdump = ['tcpdump', '-i', iface, '-n', '-U', '--immediate-mode', '-B', '8192', '-Z', 'root'];
  const child = spawnTracked('ip', [
    'netns',
    'exec',
    ns,
    ...tcpdump,
    '--time-stamp-precision=nano',
    '-w',
    file,
    filter,
  ]);
  const t0 = performance.now();
  while (!child.output().includes('listening on')) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`tcpdump exited:\n${child.output()}`);
    if (performance.now() - t0 > 5000) {
      await stopChild(child);
      throw new Error(`tcpdump not listening after 5 s:\n${child.output()}`);
    }
    await delay(10);
  }
  return {
    async stop() {
      await delay(100); // the last replies
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await child.exited;
      clearTimeout(timer);
      const dropped = Number(/(\d+) packets? dropped by kernel/.exec(child.output())?.[1] ?? NaN);
      return { packets: readPcap(await readFile(file)), dropped };
    },
  };
}

/**
 * ICMPv4 echo requests/replies from a nanosecond pcap of an Ethernet link.
 * @param {Buffer} buf
 * @returns {Packet[]}
 */
export function readPcap(buf) {
  const magic = buf.readUInt32LE(0);
  if (magic !== 0xa1b23c4d) throw new Error(`not a nanosecond little-endian pcap (magic ${magic.toString(16)})`);
  if (buf.readUInt32LE(20) !== 1) throw new Error(`link type ${buf.readUInt32LE(20)} is not Ethernet`);
  /** @type {Packet[]} */
  const packets = [];
  /** @type {number | undefined} */
  let sec0;
  for (let off = 24; off + 16 <= buf.length;) {
    const sec = buf.readUInt32LE(off);
    const nsec = buf.readUInt32LE(off + 4);
    const len = buf.readUInt32LE(off + 8);
    const p = off + 16;
    off = p + len;
    if (off > buf.length) break;
    if (buf.readUInt16BE(p + 12) !== 0x0800) continue;
    const ip = p + 14;
    if (buf[ip + 9] !== 1) continue;
    const icmp = ip + ((buf[ip] ?? 0) & 0x0f) * 4;
    sec0 ??= sec;
    packets.push({
      tNs: (sec - sec0) * 1e9 + nsec,
      src: [...buf.subarray(ip + 12, ip + 16)].join('.'),
      dst: [...buf.subarray(ip + 16, ip + 20)].join('.'),
      type: buf[icmp],
      id: buf.readUInt16BE(icmp + 4),
      seq: buf.readUInt16BE(icmp + 6),
    });
  }
  return packets;
}

/**
 * On-the-wire RTT (us) of every echo request to `host`, in send order; null when unanswered.
 * @param {readonly Packet[]} packets
 * @param {string} host
 */
export function wireRtts(packets, host) {
  /** @type {Map<string, number>} */
  const replies = new Map();
  for (const p of packets)
    if (p.type === 0 && p.src === host && !replies.has(`${p.id}/${p.seq}`)) replies.set(`${p.id}/${p.seq}`, p.tNs);
  return packets
    .filter((p) => p.type === 8 && p.dst === host)
    .map((p) => {
      const replyNs = replies.get(`${p.id}/${p.seq}`);
      return replyNs === undefined ? null : (replyNs - p.tNs) / 1e3;
    });
}
