// @ts-check
// Issue 17, "CLI end to end": every kind's phases from `vantage probe` in a fresh process (cold:
// what support runs, and the agent's first run) and from the warm adapters as the agent makes
// them (HTTPS exchanges on their worker thread) after their first run, beside curl -w and dig
// from the same run, against the same loopback targets (lib/local-targets.mjs, in a process of
// their own as curl's are: in this process the server's accept and TLS work ran on the warm
// client's loop, before its connect callback): an HTTPS server (HTTP/1.1), a DNS server that
// answers after SLOW_MS, and this host's name through the system resolver (the hosts file), where
// curl's namelookup is the reference. Then the https phases of both tools beside a kernel-stamped
// capture of the same connections (cli-phases/wire.mjs).
import { lookup } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { loadDist, VANTAGE_BIN } from './lib/dist.mjs';
import { CURL_TIMED, LOOPBACK } from './lib/http.mjs';
import { execFileP, installed, makeTempDir, removeTempDir, stopChild } from './lib/proc.mjs';
import { startServers } from './scale/setup.mjs';
import { runStandalone } from './lib/standalone.mjs';
import { rounded, summarize } from './lib/stats.mjs';
import { fmt } from './lib/table.mjs';
import { dnsAgainstWire } from './cli-phases/dns-wire.mjs';
import { fromExchange, httpsAgainstWire } from './cli-phases/wire.mjs';

const COLD_RUNS = 5;
const WARM_RUNS = 10;
const SLOW_MS = 40;
const SLOW_NAME = 'slow.bench.test';
const PINGS = 5;
const ICMP_ROW = `icmp rtt, median of ${PINGS} (loopback)`;
/**
 * Connected to first byte: the tls / request boundary is not the same point in both tools. Node
 * reports the handshake before its Finished is written (it goes out with the request, after the
 * callback), curl once its Finished is out and it has checked the certificate, while the server is
 * already at work: the sum compares without that boundary.
 */
const TLS_TO_FIRST_BYTE = 'https tls + request + first byte';
/** The targets' lifetime bound, in case this process dies without stopping them. */
const TARGETS_MAX_MS = 600_000;

/**
 * What the benchmark reads of a `vantage probe --json` record.
 * @typedef {{ phasesMs: Record<string, number>, durationMs: number, rttMs?: { median?: number } }} ProbeRecord
 */

/**
 * Phases in ms, per tool and run, named as in the table rows.
 * @typedef {Record<string, number[]>} Samples
 */

/** @param {Samples} s @param {string} k @param {number | undefined} v */
const add = (s, k, v) => {
  if (v !== undefined && Number.isFinite(v)) (s[k] ??= []).push(v);
};

/**
 * A certificate for `names` (and 127.0.0.1) with the openssl CLI, self-signed: the CA file too.
 * @param {string} dir
 * @param {string[]} names
 */
async function certificate(dir, names) {
  const [cert, key] = [join(dir, 'cert.pem'), join(dir, 'key.pem')];
  const san = [...names.map((n) => `DNS:${n}`), `IP:${LOOPBACK}`].join(',');
  await execFileP('openssl', [
    ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'],
    ...['-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=bench', '-addext', `subjectAltName=${san}`],
  ]);
  return { cert, key };
}

/**
 * `vantage probe ARGS --json` in a fresh process: its first record.
 * @param {string[]} args
 * @returns {Promise<ProbeRecord>}
 */
async function probe(args) {
  const { stdout, stderr } = await execFileP(process.execPath, [VANTAGE_BIN, 'probe', ...args, '--json'], {
    timeout: 30_000,
  }).catch((/** @type {{ stdout?: string, stderr?: string }} */ err) => ({
    stdout: err.stdout ?? '',
    stderr: err.stderr ?? '',
  }));
  const line = stdout.split('\n').find((l) => l.startsWith('{'));
  if (!line) throw new Error(`vantage probe ${args.join(' ')} printed no record:\n${stderr.slice(-2000)}`);
  return JSON.parse(line);
}

/**
 * Cold: fresh vantage processes and the reference tools, interleaved run by run.
 * @param {{ host: string, httpsPort: number, dnsPort: number, ca: string }} t
 */
async function cold(t) {
  /** @type {Samples} */ const ours = {};
  /** @type {Samples} */ const ref = {};
  const url = `https://${t.host}:${t.httpsPort}/`;
  const hasCurl = await installed('curl');
  const hasDig = await installed('dig');
  for (let i = 0; i < COLD_RUNS; i++) {
    const h = await probe(['https', url, '--ca-file', t.ca, '--http-version', '1.1']);
    add(ours, 'https dns', h.phasesMs.dns);
    add(ours, 'https connect', h.phasesMs.connect);
    add(ours, 'https tls', h.phasesMs.tls);
    add(ours, 'https request + first byte', (h.phasesMs.request ?? NaN) + (h.phasesMs.firstByte ?? NaN));
    add(ours, TLS_TO_FIRST_BYTE, (h.phasesMs.tls ?? NaN) + (h.phasesMs.request ?? NaN) + (h.phasesMs.firstByte ?? NaN));
    const c = await probe(['tcp', `${t.host}:${t.httpsPort}`]);
    add(ours, 'tcp resolve', c.phasesMs.resolve);
    add(ours, 'tcp connect', c.phasesMs.connect);
    const d = await probe(['dns', SLOW_NAME, '--resolver', `${LOOPBACK}:${t.dnsPort}`]);
    add(ours, `dns udp request (+${SLOW_MS} ms server)`, d.phasesMs.request);
    const s = await probe(['dns', t.host]);
    add(ours, 'dns system resolver', s.phasesMs.request);
    const icmp = await probe(['icmp', LOOPBACK, '--count', String(PINGS), '--spacing', '20ms']);
    add(ours, ICMP_ROW, icmp.rttMs?.median);
    if (hasCurl) {
      const w = '%{time_namelookup} %{time_connect} %{time_appconnect} %{time_starttransfer}';
      const { stdout } = await execFileP('curl', [...CURL_TIMED, '-s', '--http1.1', '--cacert', t.ca, '-w', w, url]);
      const [dns = NaN, connect = NaN, app = NaN, start = NaN] = stdout
        .trim()
        .split(' ')
        .map((x) => Number(x) * 1000);
      for (const k of ['https dns', 'tcp resolve', 'dns system resolver']) add(ref, k, dns);
      for (const k of ['https connect', 'tcp connect']) add(ref, k, connect - dns);
      add(ref, 'https tls', app - connect);
      add(ref, 'https request + first byte', start - app);
      add(ref, TLS_TO_FIRST_BYTE, start - connect);
    }
    if (hasDig) {
      const dig = ['+tries=1', '+time=2', '-p', String(t.dnsPort), `@${LOOPBACK}`, SLOW_NAME, 'A'];
      const { stdout } = await execFileP('dig', dig);
      add(ref, `dns udp request (+${SLOW_MS} ms server)`, Number(/Query time: (\d+) msec/.exec(stdout)?.[1]));
    }
  }
  if (await installed('ping')) {
    for (let i = 0; i < COLD_RUNS; i++) {
      const { stdout } = await execFileP('ping', ['-n', '-c', String(PINGS), '-i', '0.02', '-W', '1', LOOPBACK]);
      const times = [...stdout.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1]));
      add(ref, ICMP_ROW, summarize(times).p50);
    }
  }
  return { ours, ref, hasCurl, hasDig };
}

/**
 * Warm: the agent's adapters in this process, after their warm-up, WARM_RUNS times each.
 * @param {{ host: string, httpsPort: number, dnsPort: number, ca: string }} t
 * @param {Awaited<ReturnType<typeof warmNet>>} net
 */
async function warm(t, net) {
  /** @type {Samples} */ const s = {};
  const ms = (/** @type {bigint} */ from) => Number(process.hrtime.bigint() - from) / 1e6;
  const ca = readFileSync(t.ca, 'utf8');
  try {
    for (let i = 0; i < WARM_RUNS; i++) {
      const signal = AbortSignal.timeout(10_000);
      let t0 = process.hrtime.bigint();
      const [address] = await net.resolver.resolve(t.host, 'any', signal);
      add(s, 'https dns', ms(t0));
      add(s, 'tcp resolve', ms(t0));
      const url = new URL(`https://${t.host}:${t.httpsPort}/`);
      const base = { url, ip: address.address, method: 'GET', headers: {}, maxBodyBytes: 1024, ca, signal };
      /** @type {{ phasesMs: Record<string, number> }} */
      const x = await net.https.exchange({ ...base, httpVersion: '1.1' });
      const p = x.phasesMs;
      add(s, 'https connect', p.connect);
      add(s, 'https tls', (p.tls ?? NaN) - (p.connect ?? NaN));
      add(s, 'https request + first byte', (p.firstByte ?? NaN) - (p.tls ?? NaN));
      add(s, TLS_TO_FIRST_BYTE, (p.firstByte ?? NaN) - (p.connect ?? NaN));
      /** @type {{ startNs: bigint, connectedNs: bigint }} */
      const c = await net.tcp.connect({ ip: address.address, port: t.httpsPort, signal });
      add(s, 'tcp connect', Number(c.connectedNs - c.startNs) / 1e6);
      const server = { transport: 'udp', address: LOOPBACK, port: t.dnsPort };
      /** @type {{ phasesMs: Record<string, number> }} */
      const d = await net.dns.query({ server, name: SLOW_NAME, type: 'A', ednsUdpSize: 1232, signal });
      add(s, `dns udp request (+${SLOW_MS} ms server)`, d.phasesMs.request);
      t0 = process.hrtime.bigint();
      await net.resolver.resolve(t.host, 'ipv4', signal);
      add(s, 'dns system resolver', ms(t0));
      /** @type {{ status: string, rttNs?: bigint }} */
      const echo = await net.icmp.echo({ address: LOOPBACK, family: 4, timeoutMs: 1_000 });
      if (echo.rttNs !== undefined) add(s, ICMP_ROW, Number(echo.rttNs) / 1e6);
    }
  } finally {
    net.icmp.close();
  }
  return s;
}

/** The agent's network adapters in this process, as `vantage run` makes them (HTTPS on its worker), warmed up. */
async function warmNet() {
  const { systemNet } = await loadDist('net/system-net.js');
  const { systemClock } = await loadDist('clock.js');
  const net = systemNet(systemClock, { httpsOnWorker: true });
  await net.ready();
  return net;
}

/** This host's name when the system resolver maps it to loopback (curl then resolves it too), else localhost. */
async function systemName() {
  const name = hostname();
  const found = await lookup(name, { family: 4 }).catch(() => undefined);
  return found?.address.startsWith('127.') ? name : 'localhost';
}

export async function run() {
  const dir = makeTempDir('vantage-cli-phases-');
  const host = await systemName();
  const tls = await certificate(dir, [host, 'localhost']);
  const targets = await startServers(tls, TARGETS_MAX_MS, SLOW_MS);
  try {
    const t = { host, httpsPort: targets.httpsPort, dnsPort: targets.dnsPort, ca: tls.cert };
    const c = await cold(t);
    const net = await warmNet();
    const w = await warm(t, net);
    const ca = readFileSync(tls.cert, 'utf8');
    const wire = await httpsAgainstWire({
      port: targets.httpsPort,
      ca: tls.cert,
      dir,
      probe,
      warm: async (url) =>
        fromExchange(
          await net.https.exchange({
            url: new URL(url),
            ip: LOOPBACK,
            method: 'GET',
            headers: {},
            maxBodyBytes: 1024,
            ca,
            httpVersion: '1.1',
            signal: AbortSignal.timeout(10_000),
          }),
        ),
    });
    const dnsWire = await dnsAgainstWire({
      port: targets.dnsPort,
      name: SLOW_NAME,
      dir,
      probe,
      warm: async () => {
        const server = { transport: 'udp', address: LOOPBACK, port: targets.dnsPort };
        const signal = AbortSignal.timeout(10_000);
        /** @type {{ phasesMs: Record<string, number> }} */
        const d = await net.dns.query({ server, name: SLOW_NAME, type: 'A', ednsUdpSize: 1232, signal });
        return d.phasesMs.request ?? NaN;
      },
    });
    const names = Object.keys(c.ours);
    const p50 = (/** @type {number[] | undefined} */ v) => (v ? summarize(v).p50 : NaN);
    const range = (/** @type {number[] | undefined} */ v) =>
      v ? `${fmt(summarize(v).min, 2)}-${fmt(summarize(v).max, 2)}` : '-';
    const rows = names.map((name) => {
      const [cold50, warm50, ref50] = [p50(c.ours[name]), p50(w[name]), p50(c.ref[name])];
      return [
        name,
        fmt(cold50, 3),
        range(c.ours[name]),
        fmt(warm50, 3),
        fmt(ref50, 3),
        fmt(cold50 - ref50, 3),
        fmt(warm50 - ref50, 3),
      ];
    });
    const raw = Object.fromEntries(
      names.map((name) => [
        name,
        {
          cold: rounded(summarize(c.ours[name] ?? [])),
          warm: rounded(summarize(w[name] ?? [])),
          reference: rounded(summarize(c.ref[name] ?? [])),
        },
      ]),
    );
    return {
      title:
        `cli-phases: CLI end to end, every kind's phases cold (${COLD_RUNS} fresh \`vantage probe\` processes) and ` +
        `warm (${WARM_RUNS} runs of the agent's adapters in this process) beside curl/dig from the same run, ` +
        'on loopback',
      sections: [
        {
          headers: ['phase', 'cold p50 ms', 'cold min-max', 'warm p50 ms', 'reference p50 ms', 'cold-ref', 'warm-ref'],
          rows,
          notes: [
            `targets: https://${host}:PORT/ (HTTP/1.1, a self-signed certificate), a UDP DNS server answering ` +
              `${SLOW_NAME} after ${SLOW_MS} ms; the system resolver resolves ${host} (hosts file)`,
            'reference: curl -w (namelookup; connect - namelookup; appconnect - connect; starttransfer - ' +
              'appconnect), one fresh curl per run; dig "Query time" for the DNS server (whole ms: coarser ' +
              'than the 0.5 ms aim, a 40 ms answer reads 40 or 41)',
            'cold = the first timed run of a fresh process after its untimed warm-ups (net/system-net.ts ready): ' +
              'the warm-up is in no phase; warm = the same adapters reused in one process',
            `icmp: the record's rttMs.median (cold) and single echoes of the engine (warm) beside iputils ` +
              `ping's per-reply times (ping -i 0.02, ${PINGS} per run; kernel receive stamps)`,
            'machine: 2 cores shared with other jobs while this ran; single runs swing by milliseconds',
          ],
        },
        ...(wire.section ? [wire.section] : []),
        ...(dnsWire.section ? [dnsWire.section] : []),
      ],
      notes: [
        ...(wire.skipped ? [`no https wire section: ${wire.skipped}`] : []),
        ...(dnsWire.skipped ? [`no DNS wire section: ${dnsWire.skipped}`] : []),
      ],
      raw: {
        coldRuns: COLD_RUNS,
        warmRuns: WARM_RUNS,
        host,
        curl: c.hasCurl,
        dig: c.hasDig,
        phases: raw,
        wire: wire.raw ?? wire.skipped,
        dnsWire: dnsWire.raw ?? dnsWire.skipped,
      },
    };
  } finally {
    await stopChild(targets.child);
    removeTempDir(dir);
  }
}

/**
 * Summary rows: each phase's cold p50 beside the reference's, and the tool.
 * @param {{ phases: Record<string, { cold: { p50: number }, reference: { p50: number } }> }} raw
 */
export function headline(raw) {
  return Object.entries(raw.phases).map(([name, v]) => [
    `cli cold ${name}, p50 ms`,
    fmt(v.cold.p50, 2),
    fmt(v.reference.p50, 2),
    name.startsWith('dns udp') ? 'dig (whole ms)' : name.startsWith('icmp') ? 'ping' : 'curl -w',
  ]);
}

await runStandalone(import.meta.url, run);
