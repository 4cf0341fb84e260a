// @ts-check
// The ICMP engine every mode of bench/_icmp-probe.mjs measures: Vantage's IcmpEngine from dist/.
import { loadDist } from '../lib/dist.mjs';

/**
 * An IcmpEngine on the system clock, its socket open and warmed up outside any measurement.
 * Loose type (any) as everything from dist/: see loadDist.
 * @returns {Promise<any>}
 */
export async function warmEngine() {
  const { IcmpEngine } = await loadDist('net/icmp/icmp-engine.js');
  const { systemClock } = await loadDist('clock.js');
  const eng = new IcmpEngine(systemClock);
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
