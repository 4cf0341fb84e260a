// @ts-check
// The scale benchmark's world: a certificate, the target servers (bench/_scale-servers.mjs), and
// the agent's config for one point. Targets: icmp to distinct 127.210.y.z addresses (a /16 the
// other benchmarks do not use, so their pings are not counted as ours), https and dns against the
// servers on 127.0.0.1.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ROOT } from '../lib/dist.mjs';
import { LOOPBACK } from '../lib/http.mjs';
import { execTracked, spawnTracked } from '../lib/proc.mjs';
import { AGENT_ID, INTERVAL_MS, MIX } from './options.mjs';

/** @import { TrackedChild } from '../lib/proc.mjs' */

/**
 * The i-th icmp target: 127.210.0.1 ... 127.210.0.250, 127.210.1.1, ... (up to 64,000).
 * @param {number} i
 */
export const icmpAddress = (i) =>
  `127.${210 + (Math.floor(i / 250) >> 8)}.${Math.floor(i / 250) & 255}.${1 + (i % 250)}`;

/**
 * A self-signed ECDSA P-256 certificate for 127.0.0.1 that is its own CA (the checks' ca_file).
 * @param {string} dir
 */
export async function writeCertificate(dir) {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  const r = await execTracked(
    'openssl',
    [
      ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'],
      ...['-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=localhost'],
      ...['-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-addext', 'basicConstraints=critical,CA:TRUE'],
    ],
    { timeoutMs: 20_000 },
  );
  if (r.code !== 0) throw new Error(`openssl req failed (${r.code}):\n${r.stderr}`);
  return { cert, key };
}

/**
 * Starts the servers for at most `maxMs`; resolves with their ports once they listen.
 * @param {{ cert: string, key: string }} pem
 * @param {number} maxMs
 * @param {number} [dnsDelayMs] how long the DNS server holds each answer
 * @returns {Promise<{ child: TrackedChild, httpsPort: number, dnsPort: number }>}
 */
export async function startServers(pem, maxMs, dnsDelayMs = 0) {
  const child = spawnTracked(process.execPath, [
    join(ROOT, 'bench', '_scale-servers.mjs'),
    pem.cert,
    pem.key,
    String(Math.round(maxMs)),
    String(dnsDelayMs),
  ]);
  const line = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`servers did not start:\n${child.output()}`)), 15_000);
    child.stdout?.on('data', (chunk) => {
      out += String(chunk);
      if (!out.includes('\n')) return;
      clearTimeout(timer);
      resolve(out.split('\n')[0]);
    });
    void child.exited.then(() => reject(new Error(`servers exited before listening:\n${child.output()}`)));
  });
  const { httpsPort, dnsPort } = /** @type {{ httpsPort: number, dnsPort: number }} */ (JSON.parse(line));
  return { child, httpsPort, dnsPort };
}

/**
 * What one point runs: its checks by kind and where its config is.
 * @typedef {{
 *   file: string, icmp: number, https: number, dns: number,
 *   icmpChecks: Array<{ name: string, address: string }>,
 * }} PointConfig
 */

/**
 * The checks of a point: `icmp` icmp checks and MIX times as many https and dns checks.
 * @param {number} icmp
 */
export const pointMix = (icmp) => ({ icmp, https: Math.round(icmp * MIX), dns: Math.round(icmp * MIX) });

/**
 * Writes a config: `icmp` icmp checks (count 1), `https` and `dns` checks against the servers, all
 * every INTERVAL_MS, the agent's identity AGENT_ID (its phase offsets depend on it).
 * @param {string} dir
 * @param {{
 *   icmp: number, https: number, dns: number, httpsPort: number, dnsPort: number, caFile: string,
 *   maxConcurrent?: number | undefined,
 * }} p
 * @returns {Promise<PointConfig>}
 */
export async function writePointConfig(dir, { icmp, https, dns, httpsPort, dnsPort, caFile, maxConcurrent }) {
  const lines = [
    'agent:',
    `  id: ${AGENT_ID}`,
    `listen: ${LOOPBACK}:9477`,
    ...(maxConcurrent === undefined ? [] : [`max_concurrent_runs: ${maxConcurrent}`]),
    'defaults:',
    `  interval: ${INTERVAL_MS / 1000}s`,
    '  timeout: 5s',
    'targets:',
  ];
  /** @type {PointConfig['icmpChecks']} */
  const icmpChecks = [];
  const pad = (/** @type {number} */ i) => String(i).padStart(5, '0');
  for (let i = 0; i < icmp; i++) {
    const address = icmpAddress(i);
    icmpChecks.push({ name: `i${pad(i)}-icmp`, address });
    lines.push(`  - name: i${pad(i)}`, `    host: ${address}`, '    checks:', '      - kind: icmp', '        count: 1');
  }
  for (let i = 0; i < https; i++)
    lines.push(
      `  - name: h${pad(i)}`,
      `    url: https://${LOOPBACK}:${httpsPort}/`,
      '    checks:',
      '      - kind: https',
      `        ca_file: ${caFile}`,
    );
  for (let i = 0; i < dns; i++)
    lines.push(
      `  - name: d${pad(i)}`,
      `    host: d${pad(i)}.scale.test`,
      '    checks:',
      '      - kind: dns',
      `        resolver: ${LOOPBACK}:${dnsPort}`,
    );
  const file = join(dir, `vantage-${icmp}-${https}-${dns}.yaml`);
  await writeFile(file, `${lines.join('\n')}\n`);
  return { file, icmp, https, dns, icmpChecks };
}
