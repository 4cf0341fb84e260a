// @ts-check
// The ICMP engine every mode of bench/_icmp-probe.mjs measures: Vantage's IcmpEngine from dist/.
import { loadDist } from '../lib/dist.mjs';

/**
 * Which ICMP socket the engine opens: `socket` is the agent's icmp_socket (auto, raw, datagram);
 * `unprivileged` drops this process to uid/gid 65534 first (setuid from root clears every
 * capability: no raw socket is possible, as in a pod running as 65534).
 * @typedef {{ socket?: 'auto' | 'raw' | 'datagram', unprivileged?: boolean }} SocketChoice
 */

/**
 * An IcmpEngine on the system clock, its socket open and warmed up outside any measurement.
 * Loose type (any) as everything from dist/: see loadDist.
 * @param {SocketChoice} [choice]
 * @returns {Promise<any>}
 */
export async function warmEngine({ socket = 'auto', unprivileged = false } = {}) {
  const { IcmpEngine } = await loadDist('net/icmp/icmp-engine.js');
  const { systemClock } = await loadDist('clock.js');
  if (unprivileged) {
    process.setgroups?.([]);
    process.setgid?.(65534);
    process.setuid?.(65534);
  }
  const eng = new IcmpEngine(systemClock);
  eng.configure(socket);
  const first = await eng.echo({ address: '127.0.0.1', family: 4, timeoutMs: 1000 });
  if (first.status === 'failed') throw new Error(first.failure.message);
  return eng;
}

/**
 * The RTT in microseconds of an echo outcome, or null when it got no reply.
 * @param {{ status: string, rttNs?: bigint }} outcome
 */
export function replyUs(outcome) {
  return outcome.status === 'reply' ? Number(outcome.rttNs) / 1e3 : null;
}
