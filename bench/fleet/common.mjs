// @ts-check
// What the fleet benchmark's parts share: the real engines (VictoriaMetrics, Prometheus, vmagent)
// started on 127.0.0.1 with their data in a temp dir, a real agent, local HTTPS and DNS targets,
// process figures from /proc, and the few Prometheus text and JSON reads the parts need.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { VANTAGE_BIN } from '../lib/dist.mjs';
import { freePort, LOOPBACK, pollHttp } from '../lib/http.mjs';
import { execTracked, spawnTracked } from '../lib/proc.mjs';
import { startLocalTargets } from '../lib/local-targets.mjs';

/** @import { TrackedChild } from '../lib/proc.mjs' */
/** @import { AddressInfo } from 'node:net' */

export const MB = 1024 * 1024;
const TICK = 100; // USER_HZ: /proc/PID/stat counts CPU in 1/100 s

/** A started engine: its process, port and data dir.
 * @typedef {{ child: TrackedChild, port: number, dir: string }} Engine */

/**
 * RSS and peak RSS (MB) and CPU seconds so far of a process, from /proc.
 * @param {number | undefined} pid
 */
export function procStats(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (/** @type {string} */ k) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuS = (Number(f[11]) + Number(f[12])) / TICK;
    return { rssMB: kb('VmRSS') / 1024, hwmMB: kb('VmHWM') / 1024, cpuS };
  } catch {
    return { rssMB: NaN, hwmMB: NaN, cpuS: NaN };
  }
}

/**
 * Bytes under a directory (apparent sizes of its files).
 * @param {string} dir
 * @returns {number}
 */
export function dirBytes(dir) {
  let total = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += dirBytes(p);
    else if (e.isFile()) total += statSync(p, { throwIfNoEntry: false })?.size ?? 0;
  }
  return total;
}

/**
 * GET http://127.0.0.1:PORT/PATH; with `gzip`, asks for gzip and returns the wire size too.
 * @param {number} port
 * @param {string} path
 * @param {{ gzip?: boolean, timeoutMs?: number }} [o]
 */
export async function get(port, path, { gzip = false, timeoutMs = 10_000 } = {}) {
  const res = await fetch(`http://${LOOPBACK}:${port}${path}`, {
    headers: gzip ? { 'accept-encoding': 'gzip' } : { 'accept-encoding': 'identity' },
    signal: AbortSignal.timeout(timeoutMs),
  });
  return { status: res.status, text: await res.text() };
}

/**
 * Raw bytes on the wire of a GET (no decoding), and the decoded text.
 * @param {number} port
 * @param {string} path
 * @param {boolean} gzip
 */
export async function rawGet(port, path, gzip) {
  const { request } = await import('node:http');
  return /** @type {Promise<{ wireBytes: number, text: string }>} */ (
    new Promise((resolve, reject) => {
      const req = request({ host: LOOPBACK, port, path, headers: { 'accept-encoding': gzip ? 'gzip' : 'identity' } });
      req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
      req.on('error', reject);
      req.on('response', (res) => {
        /** @type {Buffer[]} */
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          const enc = res.headers['content-encoding'];
          resolve({ wireBytes: body.length, text: (enc === 'gzip' ? gunzipSync(body) : body).toString('utf8') });
        });
      });
      req.end();
    })
  );
}

/**
 * Sum of every sample of a metric (name, optional label filter text) in a Prometheus text exposition.
 * @param {string} text
 * @param {string} name
 * @param {string} [having] a substring the series line must contain
 */
export function metricSum(text, name, having = '') {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== '{' && line[name.length] !== ' ')) continue;
    if (having && !line.includes(having)) continue;
    const v = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(v)) sum += v;
  }
  return sum;
}

/**
 * Starts an engine binary and waits until GET /-/healthy (or /health) answers 200.
 * @param {string} cmd
 * @param {(port: number) => string[]} args
 * @param {string} dir
 * @param {{ port?: number, health?: string, env?: Record<string, string> }} [o]
 * @returns {Promise<Engine>}
 */
export async function startEngine(cmd, args, dir, { port, health = '/health', env } = {}) {
  const p = port ?? (await freePort());
  const child = spawnTracked(cmd, args(p), env ? { env: { ...process.env, ...env } } : {});
  await pollHttp({ port: p, path: health, ready: (r) => r.status === 200, timeoutMs: 60_000, child });
  return { child, port: p, dir };
}

/**
 * VictoriaMetrics single-node, data in `dir`, queries see fresh samples.
 * @param {string} dir
 * @param {number} [port]
 */
export const startVictoria = (dir, port) =>
  startEngine(
    'victoria-metrics',
    (p) => [
      `-storageDataPath=${dir}`,
      `-httpListenAddr=${LOOPBACK}:${p}`,
      '-search.latencyOffset=0s',
      '-retentionPeriod=1d',
      '-loggerLevel=ERROR',
    ],
    dir,
    { port },
  );

/**
 * Samples per series of `selector` in VictoriaMetrics between two times (ms), from /api/v1/export.
 * @param {number} port
 * @param {string} selector
 * @param {number} startMs
 * @param {number} endMs
 * @returns {Promise<Array<{ labels: Record<string, string>, ts: number[] }>>}
 */
export async function exportSeries(port, selector, startMs, endMs) {
  const q = new URLSearchParams({ 'match[]': selector, start: String(startMs / 1000), end: String(endMs / 1000) });
  const { text } = await get(port, `/api/v1/export?${q}`, { timeoutMs: 60_000 });
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const o = JSON.parse(l);
      return { labels: o.metric, ts: /** @type {number[]} */ (o.timestamps) };
    });
}

/**
 * Starts the agent with a config file, waits for /metrics, returns it and its port.
 * @param {string} config
 */
export async function startAgent(config) {
  const port = await freePort();
  const child = spawnTracked(process.execPath, [
    VANTAGE_BIN,
    'run',
    '-c',
    config,
    '--listen',
    `${LOOPBACK}:${port}`,
    '--log-level',
    'warn',
  ]);
  await pollHttp({ port, path: '/metrics', ready: (r) => r.status === 200, timeoutMs: 30_000, child });
  return { child, port };
}

/**
 * Local targets for https and dns checks: an HTTPS server (self-signed, its own CA) and a UDP DNS
 * server answering every A question with 127.0.0.1. Closed by `close()`.
 * @param {string} dir
 */
export async function startTargets(dir) {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  const r = await execTracked('openssl', [
    ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'],
    ...['-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=localhost'],
    ...['-addext', 'subjectAltName=IP:127.0.0.1', '-addext', 'basicConstraints=critical,CA:TRUE'],
  ]);
  if (r.code !== 0) throw new Error(`openssl failed: ${r.stderr}`);
  const targets = await startLocalTargets(cert, key);
  return { caFile: cert, ...targets };
}

/**
 * Writes an agent config: `icmp` icmp checks to distinct 127.x addresses (count 1), `https` and
 * `dns` checks against the local targets, every `interval` seconds.
 * @param {string} file
 * @param {{ icmp: number, https: number, dns: number, interval: number }} mix
 * @param {{ caFile: string, httpsPort: number, dnsPort: number } | undefined} t
 */
export async function writeAgentConfig(file, { icmp, https, dns, interval }, t) {
  const lines = ['agent:', '  id: fleet-bench', '  region: eu-west-1', '  carrier: bench-carrier'];
  lines.push('  network_type: mobile', `listen: ${LOOPBACK}:9477`, 'defaults:', `  interval: ${interval}s`);
  lines.push('  timeout: 5s', 'targets:');
  for (let i = 0; i < icmp; i++) {
    const addr = `127.20.${Math.floor(i / 250)}.${1 + (i % 250)}`;
    lines.push(`  - name: ping-${i}`, `    host: ${addr}`, '    checks:', '      - kind: icmp', '        count: 3');
  }
  for (let i = 0; i < https && t; i++) {
    lines.push(`  - name: web-${i}`, `    url: https://${LOOPBACK}:${t.httpsPort}/`, '    checks:');
    lines.push('      - kind: https', `        ca_file: ${t.caFile}`);
  }
  for (let i = 0; i < dns && t; i++) {
    lines.push(`  - name: dns-${i}`, `    host: d${i}.fleet.test`, '    checks:', '      - kind: dns');
    lines.push(`        resolver: ${LOOPBACK}:${t.dnsPort}`);
  }
  await writeFile(file, `${lines.join('\n')}\n`);
}
