// @ts-check
// prometheus-blackbox-exporter, the peer several benchmarks run beside Vantage: where it is, how to
// start it with a module config, and how to read an ICMP probe's answer.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort, LOOPBACK, pollHttp } from './http.mjs';
import { spawnTracked } from './proc.mjs';

export const BLACKBOX = '/usr/bin/prometheus-blackbox-exporter';
export const BLACKBOX_MISSING = 'blackbox_exporter not installed (apt-get install prometheus-blackbox-exporter)';
/** Its port inside a lab namespace (the namespace has a loopback of its own, so it is free). */
export const BLACKBOX_NS_PORT = 9115;

/**
 * Starts blackbox_exporter with `config` (YAML, written to `dir`/blackbox.yml): on a free port of
 * 127.0.0.1 here, waiting until /metrics answers; or in namespace `ns` on BLACKBOX_NS_PORT, not
 * waited for (its port is not reachable from here: the caller or a helper in the namespace waits).
 * @param {string} dir
 * @param {string} config
 * @param {{ ns?: string }} [options]
 */
export async function startBlackbox(dir, config, { ns } = {}) {
  const file = join(dir, 'blackbox.yml');
  await writeFile(file, config);
  const port = ns ? BLACKBOX_NS_PORT : await freePort();
  const args = [`--config.file=${file}`, `--web.listen-address=${LOOPBACK}:${port}`, '--log.level=warn'];
  const child = ns ? spawnTracked('ip', ['netns', 'exec', ns, BLACKBOX, ...args]) : spawnTracked(BLACKBOX, args);
  if (!ns) await pollHttp({ port, path: '/metrics', ready: (r) => r.status === 200, timeoutMs: 15_000, child });
  return { port, child };
}

/**
 * The RTT (us) of an icmp module's /probe answer, or null unless probe_success is 1.
 * @param {string} body
 */
export function blackboxIcmpRttUs(body) {
  const rtt = /^probe_icmp_duration_seconds\{phase="rtt"\} (\S+)/m.exec(body);
  return /^probe_success 1$/m.test(body) && rtt ? Number(rtt[1]) * 1e6 : null;
}
