// @ts-check
// What the scale benchmark reads of a running agent: its /proc figures (RSS, peak RSS, CPU, fds)
// and its /metrics, fetched as Prometheus does (OpenMetrics preferred, gzip accepted, 10 s
// timeout) and reduced to the few numbers the benchmark reports.
import { readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { LOOPBACK } from '../lib/http.mjs';
import { errorCode } from '../lib/errors.mjs';
import { SCRAPE_TIMEOUT_MS } from './options.mjs';

/** Prometheus 2.x's scrape Accept header. */
const ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,' +
  'text/plain;version=0.0.4;q=0.5,*/*;q=0.1';
/** Clock ticks per second of /proc/<pid>/stat's utime and stime (getconf CLK_TCK: 100 on Linux). */
const CLK_TCK = 100;

/**
 * What /proc says of the agent (and of the whole machine's busy CPU time, to tell a busy neighbour).
 * @typedef {{
 *   atNs: bigint, rssBytes: number, hwmBytes: number, cpuSec: number, fds: number, machineBusySec: number,
 *   helpersCpuSec: number,
 * }} ProcSample
 */

/** CPU seconds the whole machine spent busy (every state of /proc/stat's cpu line but idle and iowait). */
function machineBusySec() {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = line.split(/\s+/).slice(1).map(Number);
  return (user + nice + system + irq + softirq + steal) / CLK_TCK;
}

/**
 * CPU seconds (user + system) of a process from /proc/<pid>/stat.
 * @param {number} pid
 */
function cpuSecOf(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/**
 * The agent's RSS, peak RSS (VmHWM), CPU seconds and open descriptors, with the machine's busy
 * time and the CPU of the benchmark's own processes (this one, the servers); null once it is gone.
 * @param {number} pid the agent
 * @param {number} [serversPid]
 * @returns {ProcSample | null}
 */
export function procSample(pid, serversPid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (/** @type {string} */ key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    const own = process.cpuUsage();
    let servers = 0;
    try {
      servers = serversPid === undefined ? 0 : cpuSecOf(serversPid);
    } catch {
      // gone: counted as 0
    }
    return {
      atNs: process.hrtime.bigint(),
      rssBytes: kb('VmRSS') * 1024,
      hwmBytes: kb('VmHWM') * 1024,
      cpuSec: cpuSecOf(pid),
      fds: readdirSync(`/proc/${pid}/fd`).length,
      machineBusySec: machineBusySec(),
      helpersCpuSec: (own.user + own.system) / 1e6 + servers,
    };
  } catch {
    return null;
  }
}

/**
 * One scrape: when it was sent and fully read (monotonic ns), time to the response head, bytes on
 * the wire and after gunzip, and the body (undefined when it failed).
 * @typedef {{
 *   startNs: bigint, endNs: bigint, ms: number, headMs: number, status: number | undefined,
 *   wireBytes: number, bodyBytes: number, encoding: string, contentType: string, body: string | undefined,
 *   error: string | undefined,
 * }} Scrape
 */

/**
 * GET /metrics like Prometheus (never rejects: a failure is a Scrape with `error`).
 * @param {number} port
 * @returns {Promise<Scrape>}
 */
export function scrape(port) {
  const startNs = process.hrtime.bigint();
  const ms = () => Number(process.hrtime.bigint() - startNs) / 1e6;
  /** @type {Scrape} */
  const result = {
    startNs,
    endNs: startNs,
    ms: NaN,
    headMs: NaN,
    status: undefined,
    wireBytes: 0,
    bodyBytes: 0,
    encoding: 'identity',
    contentType: '',
    body: undefined,
    error: undefined,
  };
  return new Promise((resolve) => {
    /** @param {string | undefined} error */
    const done = (error) => {
      result.endNs = process.hrtime.bigint();
      result.ms = ms();
      result.error = error;
      resolve(result);
    };
    const req = request(
      {
        host: LOOPBACK,
        port,
        path: '/metrics',
        agent: false,
        headers: { accept: ACCEPT, 'accept-encoding': 'gzip' },
        timeout: SCRAPE_TIMEOUT_MS,
      },
      (res) => {
        result.headMs = ms();
        result.status = res.statusCode;
        result.encoding = String(res.headers['content-encoding'] ?? 'identity');
        result.contentType = String(res.headers['content-type'] ?? '');
        /** @type {Buffer[]} */
        const chunks = [];
        res.on('data', (c) => {
          chunks.push(c);
          result.wireBytes += c.length;
        });
        res.on('error', (err) => done(errorCode(err)));
        res.on('end', () => {
          try {
            const raw = Buffer.concat(chunks);
            const body = result.encoding === 'gzip' ? gunzipSync(raw) : raw;
            result.bodyBytes = body.length;
            result.body = body.toString('utf8');
            done(res.statusCode === 200 ? undefined : `HTTP ${res.statusCode}`);
          } catch (err) {
            done(errorCode(err));
          }
        });
      },
    );
    const timer = setTimeout(() => req.destroy(new Error('scrape timeout')), SCRAPE_TIMEOUT_MS);
    req.on('close', () => clearTimeout(timer));
    req.on('timeout', () => req.destroy(new Error('scrape timeout')));
    req.on('error', (err) => done(errorCode(err)));
    req.end();
  });
}

/**
 * What the benchmark takes from one exposition. Missing metrics stay undefined (the exposition is
 * being reworked: the benchmark must survive renamed or dropped series).
 * @typedef {{
 *   series: number, seriesByKind: Record<string, number>, heapUsedBytes: number | undefined,
 *   lagBuckets: Array<[number, number]>, lagCount: number | undefined, skipped: Record<string, number>,
 *   runs: number | undefined, successByKind: Record<string, { ok: number, all: number }>,
 *   loopLagP99Sec: number | undefined, httpsTlsMs: number[], httpsRunMs: number[], probeThreadNice: number | undefined,
 * }} Exposition
 */

/**
 * Reduces an exposition (Prometheus text or OpenMetrics) to the figures above, in one pass.
 * @param {string} body
 * @returns {Exposition}
 */
export function readExposition(body) {
  /** @type {Exposition} */
  const out = {
    series: 0,
    seriesByKind: {},
    heapUsedBytes: undefined,
    lagBuckets: [],
    lagCount: undefined,
    skipped: {},
    runs: undefined,
    successByKind: {},
    loopLagP99Sec: undefined,
    httpsTlsMs: [],
    httpsRunMs: [],
    probeThreadNice: undefined,
  };
  /** @type {Map<number, number>} */
  const lag = new Map();
  let pos = 0;
  while (pos < body.length) {
    let nl = body.indexOf('\n', pos);
    if (nl < 0) nl = body.length;
    const line = body.slice(pos, nl);
    pos = nl + 1;
    if (line === '' || line.charCodeAt(0) === 35 /* # */) continue;
    out.series++;
    const kind = /kind="(icmp|https|dns|tcp|traceroute)"/.exec(line)?.[1];
    if (kind) out.seriesByKind[kind] = (out.seriesByKind[kind] ?? 0) + 1;
    const value = () => Number(line.slice(line.lastIndexOf('}') + 2).split(' ')[0]);
    const plain = () => Number(line.split(' ')[1]);
    if (line.startsWith('probe_success{') && kind) {
      const s = (out.successByKind[kind] ??= { ok: 0, all: 0 });
      s.all++;
      if (value() === 1) s.ok++;
    } else if (line.startsWith('vantage_check_runs_total{')) out.runs = (out.runs ?? 0) + value();
    else if (line.startsWith('vantage_check_runs_skipped_total{')) {
      const reason = /reason="([^"]*)"/.exec(line)?.[1] ?? '?';
      out.skipped[reason] = (out.skipped[reason] ?? 0) + value();
    } else if (line.startsWith('vantage_scheduler_lag_seconds_bucket{')) {
      const le = /le="([^"]*)"/.exec(line)?.[1];
      if (le !== undefined) lag.set(le === '+Inf' ? Infinity : Number(le), value());
    } else if (line.startsWith('vantage_scheduler_lag_seconds_count')) {
      out.lagCount = line.includes('{') ? value() : plain();
    } else if (line.startsWith('probe_http_duration_seconds{') && line.includes('phase="tls"')) {
      out.httpsTlsMs.push(value() * 1000);
    } else if (line.startsWith('probe_duration_seconds{') && kind === 'https') {
      out.httpsRunMs.push(value() * 1000);
    } else if (line.startsWith('nodejs_heap_size_used_bytes')) {
      out.heapUsedBytes = line.includes('{') ? value() : plain();
    } else if (line.startsWith('vantage_probe_thread_nice')) {
      out.probeThreadNice = line.includes('{') ? value() : plain();
    } else if (line.startsWith('nodejs_eventloop_lag_p99_seconds')) {
      out.loopLagP99Sec = line.includes('{') ? value() : plain();
    }
  }
  out.lagBuckets = [...lag].sort((a, b) => a[0] - b[0]);
  return out;
}

/**
 * A quantile of the observations between two readings of a cumulative histogram, interpolated
 * inside the bucket as Prometheus's histogram_quantile does (the +Inf bucket gives its lower bound).
 * @param {ReadonlyArray<[number, number]>} from earlier buckets (le, cumulative count); [] = zero
 * @param {ReadonlyArray<[number, number]>} to later buckets
 * @param {number} q 0-1
 */
export function bucketQuantile(from, to, q) {
  const before = new Map(from);
  const deltas = to.map(([le, c]) => /** @type {[number, number]} */ ([le, c - (before.get(le) ?? 0)]));
  const total = deltas.at(-1)?.[1] ?? 0;
  if (total <= 0) return NaN;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const [le, cum] of deltas) {
    if (cum >= rank) {
      if (le === Infinity) return lower;
      return lower + ((le - lower) * (rank - below)) / Math.max(1, cum - below);
    }
    lower = le;
    below = cum;
  }
  return lower;
}

/**
 * The share of observations above `bound` (which must be a bucket bound) between two readings.
 * @param {ReadonlyArray<[number, number]>} from
 * @param {ReadonlyArray<[number, number]>} to
 * @param {number} bound
 */
export function shareAbove(from, to, bound) {
  const count = (/** @type {ReadonlyArray<[number, number]>} */ b, /** @type {number} */ le) =>
    b.find(([l]) => l === le)?.[1] ?? 0;
  const total = count(to, Infinity) - count(from, Infinity);
  if (total <= 0) return NaN;
  return (total - (count(to, bound) - count(from, bound))) / total;
}
