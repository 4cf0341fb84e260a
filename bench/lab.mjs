// The network lab (test/lab, compiled by `npm run build:lab` to tsconfig.lab.json's outDir): how long it takes to
// build and remove, and how closely its injected faults match the ground truth it reports, measured
// with the real tools from inside the agent namespace:
//   a) Lab.up() / lab.down() wall time, CYCLES cycles (issue: full up + down under 10 s)
//   b) the delayed ICMP responder: iputils ping RTT vs echoDelayMs (1, 20, 100 ms; v4 and v6),
//      next to a kernel-answered host at the same depth (path RTT without the responder)
//   c) the slow DNS name: dig's Query time vs truth.dns.slowDelayMs
//   d) HTTPS first byte: curl starttransfer - appconnect vs /ttfb/150, HTTP/2 and HTTP/1.1
//   e) loss: ping -c 1000 to the lossy address vs truth.lossy.lossRate
// Needs root (namespaces, nftables). Every command is bounded; every lab is torn down in finally
// and on SIGINT/SIGTERM/SIGHUP. Traffic stays inside the lab's namespaces (198.18.0.0/15,
// 2001:db8::/32).
import { loadavg } from 'node:os';
import { execFileP, labDown, labUp, loadLab, must, toolMissing, withLab, withLabCleanup } from './labkit.mjs';
import { fmt, installExitCleanup, rounded, runStandalone, summarize } from './lib.mjs';

const CYCLES = 5;
const UP_DOWN_LIMIT_MS = 10_000;
const ECHO_DELAYS_MS = [1, 20, 100];
const ECHO_TOLERANCE_MS = 1;
const PINGS = 50;
const PING_INTERVAL_S = '0.02';
const DIGS = 10;
const CURLS = 10;
const TTFB_MS = 150;
const LOSS_PINGS = 1000;
const LOSS_INTERVAL_S = '0.002';

// ---------------------------------------------------------------------------------------------
// Parsing

/** iputils ping -q summary: transmitted, received and the rtt line (ms). */
function parsePing(out) {
  const counts = /(\d+) packets transmitted, (\d+) received/.exec(out);
  if (!counts) throw new Error(`no ping summary in:\n${out}`);
  const rtt = /= ([\d.]+)\/([\d.]+)\/([\d.]+)\/([\d.]+) ms/.exec(out);
  const [min, avg, max, mdev] = rtt ? rtt.slice(1).map(Number) : [NaN, NaN, NaN, NaN];
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

// ---------------------------------------------------------------------------------------------
// Measurements

async function upDownCycles(Lab) {
  const upMs = [];
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
  return { upMs, downMs, totalMs: upMs.map((u, i) => u + downMs[i]), leftovers };
}

/** b) ping the echo responder (and, once, a kernel-answered host at the same depth) in one lab. */
async function echoAccuracy(lab, delayMs, withBaseline) {
  const { truth } = lab;
  const rows = [];
  const timeoutMs = Math.ceil((PINGS * Number(PING_INTERVAL_S) * 1000 + delayMs) * 3 + 5000);
  for (const family of ['v4', 'v6']) {
    const out = await must(
      lab,
      truth.namespaces.agent,
      pingArgs(family, PINGS, PING_INTERVAL_S, truth.echo[family], { quiet: false }),
      { timeoutMs, okCodes: [0, 1] },
    );
    rows.push({ target: 'echo responder', configuredMs: truth.echo.delayMs, family, ...parsePing(out) });
  }
  if (withBaseline) {
    const host = truth.hosts.up[0];
    for (const family of ['v4', 'v6']) {
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

/** c) dig the slow name at the authoritative server. */
async function dnsDelay(lab) {
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
  return { server: truth.dns.auth.v4, name: truth.dns.slowName, configuredMs: truth.dns.slowDelayMs, queryMs };
}

/** d) curl the first-byte delay over HTTP/2 and HTTP/1.1. */
async function httpsTtfb(lab) {
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
          '-o',
          '/dev/null',
          '--noproxy',
          '*',
          '--max-time',
          '5',
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

/** e) many pings to the lossy address. */
async function loss(lab) {
  const { truth } = lab;
  const out = await must(lab, truth.namespaces.agent, pingArgs('v4', LOSS_PINGS, LOSS_INTERVAL_S, truth.lossy.v4), {
    timeoutMs: 30_000,
    okCodes: [0, 1],
  });
  const p = parsePing(out);
  const measured = 1 - p.received / p.sent;
  const rate = truth.lossy.lossRate;
  const sigma = Math.sqrt((rate * (1 - rate)) / p.sent);
  return {
    target: truth.lossy.v4,
    configured: rate,
    sent: p.sent,
    received: p.received,
    measured,
    sigma,
    z: sigma > 0 ? (measured - rate) / sigma : NaN,
  };
}

// ---------------------------------------------------------------------------------------------

export async function run() {
  installExitCleanup();
  const t0 = performance.now();
  const { Lab, skipped: why, buildNote } = await loadLab();
  if (why) return skipped(why, buildNote);
  const missing = {
    ping: await toolMissing(['ping', '-V']),
    dig: await toolMissing(['dig', '-v']),
    curl: await toolMissing(['curl', '--version']),
  };

  // Every number here is sensitive to other work on the machine (user-space responders, timers).
  const raw = { cycles: CYCLES, loadavg1mAtStart: Math.round(loadavg()[0] * 100) / 100 };
  await withLabCleanup(async () => {
    raw.upDown = await upDownCycles(Lab);
    raw.echo = [];
    if (!missing.ping) {
      // The default (20 ms) lab also carries the DNS, HTTPS and loss measurements.
      for (const delayMs of ECHO_DELAYS_MS) {
        await withLab(Lab, { echoDelayMs: delayMs }, async (lab) => {
          raw.echo.push(...(await echoAccuracy(lab, delayMs, delayMs === 20)));
          if (delayMs !== 20) return;
          if (!missing.dig) raw.dns = await dnsDelay(lab);
          if (!missing.curl) raw.https = await httpsTtfb(lab);
          raw.loss = await loss(lab);
        });
      }
    } else {
      await withLab(Lab, {}, async (lab) => {
        if (!missing.dig) raw.dns = await dnsDelay(lab);
        if (!missing.curl) raw.https = await httpsTtfb(lab);
      });
    }
  });
  raw.durationMs = Math.round(performance.now() - t0);
  return report(raw, missing, buildNote);
}

function skipped(reason, buildNote) {
  return {
    title: 'lab: network lab build time and ground-truth accuracy',
    sections: [],
    notes: [`skipped: ${reason}`, ...(buildNote ? [buildNote] : [])],
    raw: { skipped: reason },
  };
}

function report(raw, missing, buildNote) {
  const sections = [];
  const { upMs, downMs, totalMs, leftovers } = raw.upDown;
  const stat = (label, values) => {
    const s = summarize(values);
    return [label, s.count, fmt(s.min, 1), fmt(s.p50, 1), fmt(s.max, 1)];
  };
  const worstTotal = Math.max(...totalMs);
  sections.push({
    heading: `a) Lab.up() / lab.down() wall time, ${CYCLES} cycles (default spec: 8 routers)`,
    headers: ['phase', 'n', 'min ms', 'median ms', 'max ms'],
    rows: [stat('up()', upMs), stat('down()', downMs), stat('up + down', totalMs)],
    notes: [
      `requirement: full up + down under ${fmt(UP_DOWN_LIMIT_MS / 1000, 0)} s: ${worstTotal < UP_DOWN_LIMIT_MS ? 'met' : 'NOT met'} (worst cycle ${fmt(worstTotal, 0)} ms)`,
      `lab namespaces left after the last down(): ${leftovers}; up() includes leftover clean-up, certificates (openssl) and starting the 4 lab services`,
    ],
  });

  const echoRows = raw.echo.map((r) => {
    const off = r.avg - r.configuredMs;
    const isEcho = r.target === 'echo responder';
    return [
      r.target,
      r.family,
      fmt(r.configuredMs, 0),
      `${r.received}/${r.sent}`,
      fmt(r.min, 3),
      fmt(r.avg, 3),
      fmt(r.max, 3),
      fmt(r.mdev, 3),
      fmt(r.median, 3),
      fmt(off, 3),
      fmt(r.median - r.configuredMs, 3),
      isEcho ? (Math.abs(off) <= ECHO_TOLERANCE_MS && r.received === r.sent ? 'yes' : 'NO') : '-',
    ];
  });
  const echoOnly = raw.echo.filter((r) => r.target === 'echo responder');
  raw.echoWorstAbsOffsetMs = echoOnly.length ? Math.max(...echoOnly.map((r) => Math.abs(r.avg - r.configuredMs))) : NaN;
  const medians = echoOnly.filter((r) => Number.isFinite(r.median));
  raw.echoWorstAbsMedianOffsetMs = medians.length
    ? Math.max(...medians.map((r) => Math.abs(r.median - r.configuredMs)))
    : NaN;
  sections.push({
    heading: `b) delayed ICMP responder: ping -c ${PINGS} -i ${PING_INTERVAL_S} from the agent namespace (ms)`,
    headers: [
      'target',
      'family',
      'delay ms',
      'recv/sent',
      'min ms',
      'avg ms',
      'max ms',
      'mdev ms',
      'median ms',
      'avg - delay',
      'median - delay',
      `avg within ±${ECHO_TOLERANCE_MS} ms`,
    ],
    rows: echoRows.length ? echoRows : [['ping not installed', '-', '-', '-', '-', '-', '-', '-', '-', '-', '-', '-']],
    notes: [
      'one lab per delay (Lab.up({ echoDelayMs })); the echo host (user-space Python responder) and the kernel-answered host sit behind the same 8 routers',
      '"kernel echo (path only)" is truth.hosts.up[0]: the path RTT without the responder, so avg - delay minus that avg is the responder\'s own overhead',
      "min/avg/max/mdev from ping's summary line; median from its per-reply lines (run without -q for them; the probes sent are the same), left out at 100 ms where ping prints whole ms",
      `worst |avg - delay| over the echo rows: ${fmt(raw.echoWorstAbsOffsetMs, 3)} ms (requirement ±${ECHO_TOLERANCE_MS} ms); worst |median - delay|: ${fmt(raw.echoWorstAbsMedianOffsetMs, 3)} ms`,
    ],
  });

  if (raw.dns) {
    const s = summarize(raw.dns.queryMs);
    sections.push({
      heading: `c) slow DNS name: dig @${raw.dns.server} ${raw.dns.name}, ${DIGS} runs`,
      headers: ['configured ms', 'n', 'min ms', 'median ms', 'max ms', 'median - configured ms'],
      rows: [
        [
          fmt(raw.dns.configuredMs, 0),
          s.count,
          fmt(s.min, 0),
          fmt(s.p50, 1),
          fmt(s.max, 0),
          fmt(s.p50 - raw.dns.configuredMs, 1),
        ],
      ],
      notes: ["dig's Query time (whole ms, one dig process per query over UDP)"],
    });
  } else {
    sections.push({ heading: `c) slow DNS name: skipped (${missing.dig})` });
  }

  if (raw.https) {
    sections.push({
      heading: `d) HTTPS first byte: curl https://web.lab.test/ttfb/${TTFB_MS}, ${CURLS} runs per protocol`,
      headers: ['protocol', 'n', 'min ms', 'median ms', 'max ms', 'median - configured ms', 'appconnect p50 ms'],
      rows: raw.https.map((h) => {
        const s = summarize(h.gapMs);
        return [
          h.proto,
          s.count,
          fmt(s.min, 2),
          fmt(s.p50, 2),
          fmt(s.max, 2),
          fmt(s.p50 - h.configuredMs, 2),
          fmt(summarize(h.appconnectMs).p50, 2),
        ];
      }),
      notes: [
        "time_starttransfer - time_appconnect: sending the request, the injected delay, one path RTT (~0.1 ms) and the server's timer lateness",
      ],
    });
  } else {
    sections.push({ heading: `d) HTTPS first byte: skipped (${missing.curl})` });
  }

  if (raw.loss) {
    const l = raw.loss;
    const within = Math.abs(l.z) <= 3;
    sections.push({
      heading: `e) loss: ping -c ${LOSS_PINGS} -i ${LOSS_INTERVAL_S} -q to ${l.target}`,
      headers: [
        'configured %',
        'sent',
        'received',
        'measured %',
        'measured - configured pts',
        '3 sigma pts',
        'within 3 sigma',
      ],
      rows: [
        [
          fmt(l.configured * 100, 1),
          l.sent,
          l.received,
          fmt(l.measured * 100, 1),
          fmt((l.measured - l.configured) * 100, 1),
          fmt(3 * l.sigma * 100, 1),
          within ? 'yes' : 'NO',
        ],
      ],
      notes: ['binomial: sigma = sqrt(p (1 - p) / sent); nft numgen random drops on the last router, requests only'],
    });
  } else {
    sections.push({ heading: `e) loss: skipped (${missing.ping})` });
  }

  const notes = [
    `whole lab benchmark took ${fmt(raw.durationMs / 1000, 1)} s; 1-min load average at its start ${fmt(raw.loadavg1mAtStart, 2)} (the lab's services and responders are user-space: other load shows up in every number)`,
  ];
  if (buildNote) notes.push(buildNote);
  return {
    title: 'lab: network lab build time and ground-truth accuracy (real tools in the agent namespace)',
    sections,
    notes,
    raw: {
      ...raw,
      upDown: {
        ...raw.upDown,
        up: rounded(summarize(upMs)),
        down: rounded(summarize(downMs)),
        total: rounded(summarize(totalMs)),
        limitMs: UP_DOWN_LIMIT_MS,
      },
      echo: raw.echo.map((r) =>
        rounded({ ...r, offsetMs: r.avg - r.configuredMs, medianOffsetMs: r.median - r.configuredMs }),
      ),
      dns: raw.dns && { ...raw.dns, summary: rounded(summarize(raw.dns.queryMs)) },
      https: raw.https?.map((h) => ({
        ...h,
        gapMs: h.gapMs.map((v) => Math.round(v * 1000) / 1000),
        summary: rounded(summarize(h.gapMs)),
      })),
      loss: raw.loss && rounded(raw.loss, 6),
      missing: Object.fromEntries(Object.entries(missing).filter(([, v]) => v)),
    },
  };
}

await runStandalone(import.meta.url, run);
