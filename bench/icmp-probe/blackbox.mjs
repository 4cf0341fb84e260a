// @ts-check
// Mode `blackbox` of bench/_icmp-probe.mjs: the same interleaved probes as `accuracy`, through
// blackbox_exporter's /probe?module=icmp (it listens on 127.0.0.1 of this namespace), reading
// probe_icmp_duration_seconds{phase="rtt"}.
import { Agent } from 'node:http';
import { blackboxIcmpRttUs } from '../lib/blackbox.mjs';
import { delay as sleep, httpGet, pollHttp } from '../lib/http.mjs';

/**
 * @param {{ port: number, echo: string, path: string, count: number, intervalMs: number, hardLimitMs?: number }} args
 */
export async function blackbox({ port, echo, path, count, intervalMs }) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  /** @param {string} target */
  const get = async (target) =>
    (await httpGet(port, `/probe?module=icmp&target=${encodeURIComponent(target)}`, 5000, agent)).body;
  await pollHttp({ port, path: '/metrics', ready: () => true, timeoutMs: 10_000, intervalMs: 20 });
  /** @type {(number | null)[]} */
  const echoUs = [];
  /** @type {(number | null)[]} */
  const pathUs = [];
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    // Sequential: one probe in flight, as blackbox_exporter is used by a scraper.
    while (performance.now() - t0 < i * intervalMs) await sleep(1);
    echoUs.push(blackboxIcmpRttUs(await get(echo)));
    pathUs.push(blackboxIcmpRttUs(await get(path)));
  }
  agent.destroy();
  return { echoUs, pathUs, measuredMs: performance.now() - t0 };
}
