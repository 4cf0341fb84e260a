// @ts-check
// The lab benchmark's measurements, each with the real tool from inside the agent namespace:
// up()/down() cycles, ping to the delayed responder, dig to the slow name, curl's first byte, and
// ping through the lossy path.
import { CURL_TIMED } from '../lib/http.mjs';
import { labDown, labUp, must } from '../lib/lab.mjs';
import { execFileP } from '../lib/proc.mjs';
import { summarize } from '../lib/stats.mjs';

/** @import { Lab, LabClass } from '../lib/lab.mjs' */

export const CYCLES = 5;
export const UP_DOWN_LIMIT_MS = 10_000;
export const ECHO_DELAYS_MS = [1, 20, 100];
export const ECHO_TOLERANCE_MS = 1;
export const PINGS = 50;
export const PING_INTERVAL_S = '0.02';
export const DIGS = 10;
export const CURLS = 10;
export const TTFB_MS = 150;
export const LOSS_PINGS = 1000;
export const LOSS_INTERVAL_S = '0.002';

/**
 * iputils ping -q summary: transmitted, received and the rtt line (ms).
 * @param {string} out
 */
function parsePing(out) {
  const counts = /(\d+) packets transmitted, (\d+) received/.exec(out);
  if (!counts) throw new Error(`no ping summary in:\n${out}`);
  const rtt = /= ([\d.]+)\/([\d.]+)\/([\d.]+)\/([\d.]+) ms/.exec(out);
  const [min = NaN, avg = NaN, max = NaN, mdev = NaN] = rtt ? rtt.slice(1).map(Number) : [];
  // Per-reply lines exist only without -q: they give the median, which outliers do not move.
  // iputils prints 3 decimals below 1 ms, 2 below 10, 1 below 100 and whole ms from 100 ms: a
  // median of whole ms says nothing at a ±1 ms tolerance, so it is left out there.
  const times = [...out.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1]));
  const median = times.length > 0 && times.every((t) => t < 100) ? summarize(times).p50 : NaN;
  return { sent: Number(counts[1]), received: Number(counts[2]), min, avg, max, mdev, median };
}

/**
 * No `-w`: with a deadline, iputils ping keeps sending until it has `count` replies, which skews
 * loss (1,107 sent for 1,000 replies) and the delayed echo's count. `timeoutMs` bounds it instead.
 * @param {'v4' | 'v6'} family
 * @param {number} count
 * @param {string} interval seconds
 * @param {string} target
 */
const pingArgs = (family, count, interval, target, { quiet = true } = {}) => [
  'ping',
  family === 'v6' ? '-6' : '-4',
  '-n',
  ...(quiet ? ['-q'] : []),
  '-c',
  String(count),
  '-i',
  interval,
  '-W',
  '1',
  target,
];

/**
 * a) CYCLES times Lab.up({}) then lab.down(), and the namespaces left after the last.
 * @param {LabClass} Lab
 */
export async function upDownCycles(Lab) {
  /** @type {number[]} */
  const upMs = [];
  /** @type {number[]} */
  const downMs = [];
  let prefix = '';
  for (let i = 0; i < CYCLES; i++) {
    const t0 = performance.now();
    const lab = await labUp(Lab, {});
    upMs.push(performance.now() - t0);
    prefix = lab.truth.prefix;
    const t1 = performance.now();
    await labDown(lab);
    downMs.push(performance.now() - t1);
  }
  const { stdout } = await execFileP('ip', ['netns', 'list'], { timeout: 5000 });
  const leftovers = stdout.split('\n').filter((l) => l.startsWith(prefix)).length;
  return { upMs, downMs, totalMs: upMs.map((u, i) => u + (downMs[i] ?? NaN)), leftovers };
}

/**
 * b) ping the echo responder (and, once, a kernel-answered host at the same depth) in one lab.
 * @param {Lab} lab
 * @param {number} delayMs
 * @param {boolean} withBaseline
 */
export async function echoAccuracy(lab, delayMs, withBaseline) {
  const { truth } = lab;
  const rows = [];
  const timeoutMs = Math.ceil((PINGS * Number(PING_INTERVAL_S) * 1000 + delayMs) * 3 + 5000);
  /** @type {('v4' | 'v6')[]} */
  const families = ['v4', 'v6'];
  for (const family of families) {
    const out = await must(
      lab,
      truth.namespaces.agent,
      pingArgs(family, PINGS, PING_INTERVAL_S, truth.echo[family], { quiet: false }),
      { timeoutMs, okCodes: [0, 1] },
    );
    /** @type {number} */
    const configuredMs = truth.echo.delayMs;
    rows.push({ target: 'echo responder', configuredMs, family, ...parsePing(out) });
  }
  if (withBaseline) {
    const host = truth.hosts.up[0];
    for (const family of families) {
      const out = await must(
        lab,
        truth.namespaces.agent,
        pingArgs(family, PINGS, PING_INTERVAL_S, host[family], { quiet: false }),
        { timeoutMs: 10_000, okCodes: [0, 1] },
      );
      rows.push({ target: 'kernel echo (path only)', configuredMs: 0, family, ...parsePing(out) });
    }
  }
  return rows;
}

/**
 * c) dig the slow name at the authoritative server.
 * @param {Lab} lab
 */
export async function dnsDelay(lab) {
  const { truth } = lab;
  const queryMs = [];
  for (let i = 0; i < DIGS; i++) {
    const out = await must(
      lab,
      truth.namespaces.agent,
      ['dig', '+tries=1', '+time=3', `@${truth.dns.auth.v4}`, truth.dns.slowName, 'A'],
      { timeoutMs: 10_000 },
    );
    const ms = /Query time: (\d+) msec/.exec(out);
    if (!ms || !out.includes('status: NOERROR')) throw new Error(`dig: unexpected answer:\n${out}`);
    queryMs.push(Number(ms[1]));
  }
  /** @type {{ server: string, name: string, configuredMs: number, queryMs: number[] }} */
  const result = { server: truth.dns.auth.v4, name: truth.dns.slowName, configuredMs: truth.dns.slowDelayMs, queryMs };
  return result;
}

/**
 * d) curl the first-byte delay over HTTP/2 and HTTP/1.1.
 * @param {Lab} lab
 */
export async function httpsTtfb(lab) {
  const { truth } = lab;
  const url = `https://${truth.https.name}/ttfb/${TTFB_MS}`;
  const out = [];
  for (const proto of ['--http2', '--http1.1']) {
    const gapMs = [];
    const appconnectMs = [];
    for (let i = 0; i < CURLS; i++) {
      const stdout = await must(
        lab,
        truth.namespaces.agent,
        [
          'curl',
          '-sS',
          ...CURL_TIMED,
          '--cacert',
          truth.https.caFile,
          proto,
          '-w',
          '%{http_code} %{http_version} %{time_appconnect} %{time_starttransfer}',
          url,
        ],
        { timeoutMs: 10_000 },
      );
      const [code, version, appconnect, starttransfer] = stdout.trim().split(' ');
      const want = proto === '--http2' ? '2' : '1.1';
      if (code !== '200' || version !== want)
        throw new Error(`curl ${proto} ${url}: HTTP ${code}, version ${version} (wanted 200 over ${want})`);
      appconnectMs.push(Number(appconnect) * 1000);
      gapMs.push((Number(starttransfer) - Number(appconnect)) * 1000);
    }
    out.push({ proto: proto.slice(2), url, configuredMs: TTFB_MS, gapMs, appconnectMs });
  }
  return out;
}

/**
 * e) many pings to the lossy address.
 * @param {Lab} lab
 */
export async function loss(lab) {
  const { truth } = lab;
  const out = await must(lab, truth.namespaces.agent, pingArgs('v4', LOSS_PINGS, LOSS_INTERVAL_S, truth.lossy.v4), {
    timeoutMs: 30_000,
    okCodes: [0, 1],
  });
  const p = parsePing(out);
  const measured = 1 - p.received / p.sent;
  /** @type {number} */
  const rate = truth.lossy.lossRate;
  const sigma = Math.sqrt((rate * (1 - rate)) / p.sent);
  return {
    /** @type {string} */
    target: truth.lossy.v4,
    configured: rate,
    sent: p.sent,
    received: p.received,
    measured,
    sigma,
    z: sigma > 0 ? (measured - rate) / sigma : NaN,
  };
}
