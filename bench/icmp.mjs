// ICMP engine: throughput, CPU and memory on loopback, and RTT accuracy against ground truth,
// side by side in the same run with fping, prometheus-blackbox-exporter's icmp module and iputils
// ping (issue 4, "Benchmark"):
//   a) loopback throughput: N = 1,000 / 5,000 / 10,000 distinct 127.x.y.z targets probed for
//      DURATION_MS each way: Vantage's IcmpEngine in a process of its own (bench/_icmp-probe.mjs)
//      paced at RATE probes/s and in a closed loop (as fast as it goes); fping at the same offered
//      rate (-i 0.1, -p per target, -C), under /usr/bin/time; blackbox_exporter driven by
//      BB_CONCURRENCY concurrent /probe requests, BB_PROBES in all, its CPU from /proc/<pid>/stat;
//      and Vantage paced at blackbox_exporter's rate, for CPU per probe at the same rate.
//   a2) sustained: RATE probes/s for 40 s in 5 s windows (the engine remembers finished probe keys
//      for 30 s: a 5 s run never sees what happens when they start to expire).
//   b) RTT accuracy in the network lab (Lab.up({ echoDelayMs: 20 })): from inside the agent
//      namespace, ACC_COUNT probes to the delayed echo responder interleaved with as many to a
//      kernel-answered host at the same depth (the path RTT), while tcpdump on the agent's link
//      records every request and reply with kernel timestamps: the capture is the ground truth
//      (error = reported RTT - RTT on the wire); "error vs configured" is RTT - delay - path RTT
//      (that one also contains the user-space responder's own lateness). Vantage idle, with 1,000
//      targets in flight, with the event loop 20 % busy rendering a 20k-series registry, and both;
//      iputils ping (kernel timestamps: the reference) and blackbox_exporter in the same namespace.
// Traffic: 127.0.0.0/8 (a) and the lab's 198.18.0.0/15 and 2001:db8::/32 (b) only. Needs root
// (raw sockets, namespaces). Every process is bounded in time and killed at exit; the lab is
// removed in finally and on signals.
import { readFile, writeFile } from 'node:fs/promises';
import { Agent } from 'node:http';
import { join } from 'node:path';
import { execFileP, loadLab, withLab, withLabCleanup } from './labkit.mjs';
import {
  delay,
  execTracked,
  fmt,
  httpGet,
  freePort,
  icmpProbe,
  installed,
  LOOPBACK,
  loopbackTarget,
  makeTempDir,
  pollHttp,
  removeTempDir,
  ROOT,
  rounded,
  runStandalone,
  spawnTracked,
  stopChild,
  summarize,
} from './lib.mjs';

const TARGET_COUNTS = [1000, 5000, 10_000];
const DURATION_MS = 5000;
const RATE = 10_000;
const TIMEOUT_MS = 1000;
const BB_PROBES = 5000;
const BB_CONCURRENCY = 100;
const ACC_COUNT = 200;
const ACC_INTERVAL_MS = 10;
const ECHO_DELAY_MS = 20;
const INFLIGHT_TARGETS = 1000;
const LOOPBACK_LOAD = { targets: 1000, rate: 5000 };
const BUSY_FRACTION = 0.2;
/** Past the engine's 30 s memory of finished probe keys: what "sustained" has to survive. */
const SUSTAINED = { targets: 1000, rate: RATE, durationMs: 40_000, windowMs: 5000, killAfterStallMs: 20_000 };
const AIMS = { rate: 10_000, cpuPer1k: 0.04, vsBlackbox: 25, errMedianUs: 50, errP99Us: 1000 };

const HELPER = join(ROOT, 'bench', '_icmp-probe.mjs');
const BLACKBOX = '/usr/bin/prometheus-blackbox-exporter';
const TIME = '/usr/bin/time';
const BLACKBOX_CONFIG = `modules:
  icmp:
    prober: icmp
    timeout: 2s
    icmp:
      preferred_ip_protocol: ip4
      ip_protocol_fallback: false
`;

// ---------------------------------------------------------------------------------------------
// Processes and tools

async function which(path) {
  try {
    await execFileP('test', ['-x', path]);
    return true;
  } catch {
    return false;
  }
}

let clockTicks;
async function clkTck() {
  if (clockTicks) return clockTicks;
  try {
    clockTicks = Number((await execFileP('getconf', ['CLK_TCK'])).stdout.trim()) || 100;
  } catch {
    clockTicks = 100;
  }
  return clockTicks;
}

/** CPU seconds (user + system) a running process has used so far, from /proc/<pid>/stat. */
async function procCpuS(pid) {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / (await clkTck());
}

/** VmRSS and VmHWM (peak) of a running process, MiB. */
async function procMemMiB(pid) {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

// ---------------------------------------------------------------------------------------------
// a) loopback throughput

async function fping(targetsFile, n, dir) {
  // The same offered rate as Vantage's paced run: one packet every 1e3/RATE ms overall, so each
  // target every n/RATE s; as many rounds as fit in DURATION_MS.
  const periodMs = Math.max(10, Math.round((n / RATE) * 1000));
  const count = Math.max(1, Math.round(DURATION_MS / periodMs));
  const timeFile = join(dir, `fping-${n}.time`);
  const args = [
    '-o',
    timeFile,
    '-f',
    '%U %S %M %e',
    'fping',
    '-C',
    String(count),
    '-q',
    '-i',
    String(1000 / RATE),
    '-p',
    String(periodMs),
    '-t',
    String(TIMEOUT_MS),
    '-f',
    targetsFile,
  ];
  const r = await execTracked(TIME, args, { timeoutMs: 120_000 });
  if (r.timedOut || (r.code !== 0 && r.code !== 1))
    throw new Error(`fping exited ${r.signal ?? r.code}:\n${r.stderr.slice(-2000)}`);
  const [user, system, maxRssKb, elapsed] = (await readFile(timeFile, 'utf8'))
    .trim()
    .split('\n')
    .at(-1)
    .split(' ')
    .map(Number);
  const rtts = [];
  let sent = 0;
  let lost = 0;
  for (const line of r.stderr.split('\n')) {
    const m = /^(\S+)\s+:\s+(.*)$/.exec(line.trim());
    if (!m) continue;
    for (const v of m[2].trim().split(/\s+/)) {
      sent++;
      if (v === '-') lost++;
      else rtts.push(Number(v) * 1000);
    }
  }
  if (sent !== n * count)
    throw new Error(`fping: expected ${n * count} results, parsed ${sent}:\n${r.stderr.slice(0, 1000)}`);
  return {
    tool: 'fping',
    mode: `-C ${count} -i ${1000 / RATE} -p ${periodMs}`,
    targets: n,
    sent,
    received: sent - lost,
    seconds: elapsed,
    cpuS: user + system,
    rssMiB: maxRssKb / 1024,
    rttUs: summarize(rtts),
  };
}

/** BB_PROBES /probe requests, BB_CONCURRENCY at a time, over the targets in turn. */
async function blackboxLoad(bb, n) {
  const agent = new Agent({ keepAlive: true, maxSockets: BB_CONCURRENCY });
  const get = async (target) => (await httpGet(bb.port, `/probe?module=icmp&target=${target}`, 10_000, agent)).body;
  const rtts = [];
  let next = 0;
  let ok = 0;
  let failed = 0;
  const cpu0 = await procCpuS(bb.child.pid);
  const t0 = performance.now();
  const deadline = t0 + 60_000;
  await Promise.all(
    Array.from({ length: BB_CONCURRENCY }, async () => {
      while (next < BB_PROBES && performance.now() < deadline) {
        const target = loopbackTarget(next++ % n);
        try {
          const body = await get(target);
          const rtt = /^probe_icmp_duration_seconds\{phase="rtt"\} (\S+)/m.exec(body);
          if (/^probe_success 1$/m.test(body) && rtt) {
            ok++;
            rtts.push(Number(rtt[1]) * 1e6);
          } else failed++;
        } catch {
          failed++;
        }
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const cpuS = (await procCpuS(bb.child.pid)) - cpu0;
  agent.destroy();
  const mem = await procMemMiB(bb.child.pid);
  return {
    tool: 'blackbox_exporter',
    mode: `${BB_CONCURRENCY} concurrent /probe`,
    targets: n,
    sent: ok + failed,
    received: ok,
    seconds,
    cpuS,
    rssMiB: mem.hwm,
    rttUs: summarize(rtts),
  };
}

async function startBlackbox(dir, { ns } = {}) {
  const config = join(dir, 'blackbox.yml');
  await writeFile(config, BLACKBOX_CONFIG);
  const port = ns ? 9115 : await freePort();
  const args = [`--config.file=${config}`, `--web.listen-address=${LOOPBACK}:${port}`, '--log.level=warn'];
  const child = ns ? spawnTracked('ip', ['netns', 'exec', ns, BLACKBOX, ...args]) : spawnTracked(BLACKBOX, args);
  // In a namespace its port is not reachable from here: the helper waits for it instead.
  if (!ns) await pollHttp({ port, path: '/metrics', ready: (r) => r.status === 200, timeoutMs: 15_000, child });
  return { port, child };
}

/** Turns a helper's throughput result into a row of the table. */
function vantageRow(r, mode) {
  return {
    tool: 'vantage',
    mode,
    targets: r.targets,
    sent: r.sent,
    received: r.received,
    seconds: r.windowMs / 1000,
    cpuS: r.cpuUserS + r.cpuSystemS,
    rssMiB: r.rssPeakMiB,
    rttUs: r.rttUs,
    nonPositiveRtts: r.nonPositiveRtts,
    unmatched: r.engine.unmatched,
    missed: r.missed,
    outcomes: r.outcomes,
  };
}

/**
 * RATE probes/s for SUSTAINED.durationMs in windows; the helper streams each window, so a run that
 * stalls (and is killed SUSTAINED.killAfterStallMs after it should have ended) still reports.
 */
async function sustainedRun() {
  const { targets, rate, durationMs, windowMs, killAfterStallMs } = SUSTAINED;
  const args = {
    targets,
    rate,
    durationMs,
    windowMs,
    timeoutMs: TIMEOUT_MS,
    hardLimitMs: durationMs + killAfterStallMs + 10_000,
  };
  const r = await execTracked(process.execPath, [HELPER, 'throughput', JSON.stringify(args)], {
    timeoutMs: durationMs + killAfterStallMs,
  });
  const lines = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => {
      try {
        return JSON.parse(l);
      } catch {
        return undefined;
      }
    })
    .filter(Boolean);
  const windows = lines.filter((l) => l.window).map((l) => l.window);
  const summary = lines.find((l) => !l.window);
  if (!summary && !r.timedOut)
    throw new Error(`_icmp-probe throughput (sustained) exited ${r.signal ?? r.code}:\n${r.stderr.slice(-3000)}`);
  const lastEndS = windows.length ? windows.at(-1).startS + windows.at(-1).seconds : 0;
  return {
    ...SUSTAINED,
    windows,
    summary,
    killed: r.timedOut,
    wallS: r.wallMs / 1000,
    silentForS: r.timedOut ? r.wallMs / 1000 - lastEndS : 0,
  };
}

async function loopbackThroughput(dir, have) {
  const rows = [];
  const bb = have.blackbox ? await startBlackbox(dir) : undefined;
  try {
    for (const n of TARGET_COUNTS) {
      const targetsFile = join(dir, `targets-${n}.txt`);
      await writeFile(targetsFile, `${Array.from({ length: n }, (_, i) => loopbackTarget(i)).join('\n')}\n`);
      rows.push(
        vantageRow(
          await icmpProbe('throughput', { targets: n, rate: RATE, durationMs: DURATION_MS, timeoutMs: TIMEOUT_MS }),
          `paced ${fmt(RATE, 0)}/s`,
        ),
      );
      rows.push(
        vantageRow(
          await icmpProbe('throughput', { targets: n, rate: 0, durationMs: DURATION_MS, timeoutMs: TIMEOUT_MS }),
          'closed loop (max)',
        ),
      );
      if (have.fping) rows.push(await fping(targetsFile, n, dir));
      if (bb) {
        const b = await blackboxLoad(bb, n);
        rows.push(b);
        if (n === TARGET_COUNTS[0] && b.received > 0) {
          // Vantage at blackbox_exporter's own rate: CPU per probe "at the same rate".
          const rate = Math.max(1, Math.round(b.sent / b.seconds));
          rows.push(
            vantageRow(
              await icmpProbe('throughput', { targets: n, rate, durationMs: DURATION_MS, timeoutMs: TIMEOUT_MS }),
              `paced ${fmt(rate, 0)}/s (= blackbox_exporter)`,
            ),
          );
        }
      }
    }
  } finally {
    if (bb) await stopChild(bb.child);
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// b) accuracy: packet capture

/** tcpdump on `iface` in `ns`, ICMP to/from `hosts` only, nanosecond kernel stamps, to `file`. */
async function startCapture(ns, iface, hosts, file) {
  const filter = `icmp and (${hosts.map((h) => `host ${h}`).join(' or ')})`;
  const child = spawnTracked('ip', [
    'netns',
    'exec',
    ns,
    'tcpdump',
    '-i',
    iface,
    '-n',
    '-U',
    '--immediate-mode',
    '-B',
    '8192',
    '-Z',
    'root',
    '--time-stamp-precision=nano',
    '-w',
    file,
    filter,
  ]);
  const t0 = performance.now();
  while (!child.output().includes('listening on')) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`tcpdump exited:\n${child.output()}`);
    if (performance.now() - t0 > 5000) {
      await stopChild(child);
      throw new Error(`tcpdump not listening after 5 s:\n${child.output()}`);
    }
    await delay(10);
  }
  return {
    async stop() {
      await delay(100); // the last replies
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await child.exited;
      clearTimeout(timer);
      const dropped = Number(/(\d+) packets? dropped by kernel/.exec(child.output())?.[1] ?? NaN);
      return { packets: readPcap(await readFile(file)), dropped };
    },
  };
}

/** ICMPv4 echo requests/replies from a nanosecond pcap of an Ethernet link. */
function readPcap(buf) {
  const magic = buf.readUInt32LE(0);
  if (magic !== 0xa1b23c4d) throw new Error(`not a nanosecond little-endian pcap (magic ${magic.toString(16)})`);
  if (buf.readUInt32LE(20) !== 1) throw new Error(`link type ${buf.readUInt32LE(20)} is not Ethernet`);
  const packets = [];
  let sec0;
  for (let off = 24; off + 16 <= buf.length;) {
    const sec = buf.readUInt32LE(off);
    const nsec = buf.readUInt32LE(off + 4);
    const len = buf.readUInt32LE(off + 8);
    const p = off + 16;
    off = p + len;
    if (off > buf.length) break;
    if (buf.readUInt16BE(p + 12) !== 0x0800) continue;
    const ip = p + 14;
    if (buf[ip + 9] !== 1) continue;
    const icmp = ip + (buf[ip] & 0x0f) * 4;
    sec0 ??= sec;
    packets.push({
      tNs: (sec - sec0) * 1e9 + nsec,
      src: [...buf.subarray(ip + 12, ip + 16)].join('.'),
      dst: [...buf.subarray(ip + 16, ip + 20)].join('.'),
      type: buf[icmp],
      id: buf.readUInt16BE(icmp + 4),
      seq: buf.readUInt16BE(icmp + 6),
    });
  }
  return packets;
}

/** On-the-wire RTT (us) of every echo request to `host`, in send order; null when unanswered. */
function wireRtts(packets, host) {
  const replies = new Map();
  for (const p of packets)
    if (p.type === 0 && p.src === host && !replies.has(`${p.id}/${p.seq}`)) replies.set(`${p.id}/${p.seq}`, p.tNs);
  return packets
    .filter((p) => p.type === 8 && p.dst === host)
    .map((p) => (replies.has(`${p.id}/${p.seq}`) ? (replies.get(`${p.id}/${p.seq}`) - p.tNs) / 1e3 : null));
}

// ---------------------------------------------------------------------------------------------
// b) accuracy: the runs

const parsePingTimes = (out, count) => {
  const times = Array(count).fill(null);
  for (const m of out.matchAll(/icmp_seq=(\d+) .*time=([\d.]+) ms/g))
    if (Number(m[1]) <= count) times[Number(m[1]) - 1] = Number(m[2]) * 1000;
  return times;
};

/** Compares one tool's RTTs (us, in send order) with the capture and with the configured delay. */
function accuracyRow(label, res, capture, truth, extra = {}) {
  const wireEcho = wireRtts(capture.packets, truth.echo.v4);
  const wirePath = wireRtts(capture.packets, truth.hosts.up[0].v4);
  const replies = res.echoUs.filter((v) => v !== null);
  const pathReplies = res.pathUs.filter((v) => v !== null);
  const pathMedian = summarize(pathReplies).p50;
  const matched = wireEcho.length === res.echoUs.length && wirePath.length === res.pathUs.length;
  const errCapture = [];
  const errCapturePath = [];
  if (matched) {
    res.echoUs.forEach((v, i) => v !== null && wireEcho[i] !== null && errCapture.push(v - wireEcho[i]));
    res.pathUs.forEach((v, i) => v !== null && wirePath[i] !== null && errCapturePath.push(v - wirePath[i]));
  }
  const errConfigured = replies.map((v) => v - truth.echo.delayMs * 1000 - pathMedian);
  const wireReplies = wireEcho.filter((v) => v !== null);
  // What the responder itself adds beyond the configured delay, on the wire (not a tool's error).
  const responderLate = wireReplies.map(
    (v) => v - truth.echo.delayMs * 1000 - summarize(wirePath.filter((x) => x !== null)).p50,
  );
  return {
    label,
    sent: res.echoUs.length,
    received: replies.length,
    rttUs: summarize(replies),
    pathUs: summarize(pathReplies),
    captured: { requests: wireEcho.length + wirePath.length, dropped: capture.dropped, matched },
    errCaptureUs: summarize(errCapture),
    errCaptureAbsUs: summarize(errCapture.map(Math.abs)),
    errCapturePathUs: summarize(errCapturePath),
    errConfiguredUs: summarize(errConfigured),
    errConfiguredAbsUs: summarize(errConfigured.map(Math.abs)),
    responderLateUs: summarize(responderLate),
    wireEchoMeanUs: summarize(wireReplies).mean,
    ...extra,
  };
}

async function accuracy(Lab, dir, have) {
  return withLab(Lab, { echoDelayMs: ECHO_DELAY_MS }, async (lab) => {
    const { truth } = lab;
    const ns = truth.namespaces.agent;
    const route = (await lab.exec(ns, ['ip', '-o', 'route', 'get', truth.echo.v4])).stdout;
    const iface = /\bdev (\S+)/.exec(route)?.[1];
    if (!iface) throw new Error(`no route to ${truth.echo.v4} in ${ns}: ${route}`);
    const hosts = [truth.echo.v4, truth.hosts.up[0].v4];
    const probeArgs = {
      echo: truth.echo.v4,
      path: truth.hosts.up[0].v4,
      count: ACC_COUNT,
      intervalMs: ACC_INTERVAL_MS,
      timeoutMs: 1000,
    };
    const blackhole = {
      blackholeV4: truth.blackhole.v4.split('.').slice(0, 3).join('.'),
      blackholeV6: truth.blackhole.v6.replace(/::[0-9a-f]+$/, '::'),
    };
    const inflight = {
      inflight: INFLIGHT_TARGETS,
      ...blackhole,
      loopbackTargets: LOOPBACK_LOAD.targets,
      loopbackRate: LOOPBACK_LOAD.rate,
    };
    const scenarios = [
      ['vantage, idle', {}],
      [`vantage, ${fmt(INFLIGHT_TARGETS, 0)} targets in flight`, inflight],
      [`vantage, loop ${BUSY_FRACTION * 100} % busy`, { busyFraction: BUSY_FRACTION }],
      [`vantage, ${fmt(INFLIGHT_TARGETS, 0)} in flight + loop busy`, { ...inflight, busyFraction: BUSY_FRACTION }],
    ];
    const rows = [];
    const captured = async (label, fn, extra) => {
      const file = join(dir, `${label.replace(/\W+/g, '-')}.pcap`);
      const cap = await startCapture(ns, iface, hosts, file);
      let res;
      let capture;
      try {
        res = await fn();
      } finally {
        capture = await cap.stop();
      }
      rows.push(accuracyRow(label, res, capture, truth, extra(res)));
    };
    for (const [label, load] of scenarios) {
      await captured(
        label,
        () => icmpProbe('accuracy', { ...probeArgs, ...load }, { ns }),
        (r) => ({ tool: 'vantage', load: r.load, statuses: r.statuses, engine: r.engine }),
      );
    }
    if (have.ping) {
      await captured(
        'iputils ping (reference)',
        async () => {
          const ping = (target) =>
            execTracked(
              'ip',
              [
                'netns',
                'exec',
                ns,
                'ping',
                '-4',
                '-n',
                '-c',
                String(ACC_COUNT),
                '-i',
                String(ACC_INTERVAL_MS / 1000),
                '-W',
                '1',
                target,
              ],
              { timeoutMs: 30_000 },
            );
          const [e, p] = [await ping(truth.echo.v4), await ping(truth.hosts.up[0].v4)];
          const avg = (out) => Number(/= [\d.]+\/([\d.]+)\//.exec(out)?.[1] ?? NaN) * 1000;
          return {
            echoUs: parsePingTimes(e.stdout, ACC_COUNT),
            pathUs: parsePingTimes(p.stdout, ACC_COUNT),
            echoAvgUs: avg(e.stdout),
            pathAvgUs: avg(p.stdout),
          };
        },
        (r) => ({ tool: 'ping', summaryAvgUs: { echo: r.echoAvgUs, path: r.pathAvgUs } }),
      );
    }
    if (have.blackbox) {
      const bb = await startBlackbox(dir, { ns });
      try {
        await captured(
          'blackbox_exporter icmp',
          () => icmpProbe('blackbox', { ...probeArgs, port: bb.port }, { ns }),
          () => ({ tool: 'blackbox_exporter' }),
        );
      } finally {
        await stopChild(bb.child);
      }
    }
    return { rows, truth: { echo: truth.echo.v4, delayMs: truth.echo.delayMs, path: truth.hosts.up[0].v4, iface, ns } };
  });
}

// ---------------------------------------------------------------------------------------------

export async function run() {
  const t0 = performance.now();
  if (process.getuid?.() !== 0) return skippedResult('raw ICMP sockets, fping -f and the lab need root');
  const have = {
    fping: (await installed('fping')) && (await which(TIME)),
    blackbox: await which(BLACKBOX),
    ping: await installed('ping'),
    tcpdump: await installed('tcpdump'),
  };
  const dir = makeTempDir('vantage-bench-icmp-');
  const raw = { rate: RATE, durationMs: DURATION_MS, have };
  try {
    raw.loopback = await loopbackThroughput(dir, have);
    raw.sustained = await sustainedRun();
    const { Lab, skipped, buildNote } = await loadLab();
    raw.labBuildNote = buildNote;
    if (skipped) raw.accuracySkipped = skipped;
    else if (!have.tcpdump) raw.accuracySkipped = 'tcpdump not installed (the capture is the ground truth)';
    else raw.accuracy = await withLabCleanup(() => accuracy(Lab, dir, have));
  } finally {
    removeTempDir(dir);
  }
  raw.durationMs = Math.round(performance.now() - t0);
  return report(raw);
}

function skippedResult(reason) {
  return {
    title: 'icmp: ICMP engine throughput and RTT accuracy',
    sections: [],
    notes: [`skipped: ${reason}`],
    raw: { skipped: reason },
  };
}

const per1k = (r) => (r.sent > 0 ? (r.cpuS / r.sent) * 1000 : NaN);
const rate = (r) => r.sent / r.seconds;

function report(raw) {
  const sections = [];
  const lb = raw.loopback;
  sections.push({
    heading: `a) loopback: distinct 127.x.y.z targets, ${fmt(DURATION_MS / 1000, 0)} s per run, each tool in a process of its own (${fmt(RATE, 0)}/s offered where paced)`,
    headers: [
      'targets',
      'tool',
      'mode',
      'sent',
      'probes/s',
      'loss %',
      'CPU s',
      'CPU s / 1k probes',
      'peak RSS MiB',
      'RTT p50 us',
      'RTT p99 us',
    ],
    rows: lb.map((r) => [
      fmt(r.targets, 0),
      r.tool,
      r.mode,
      fmt(r.sent, 0),
      fmt(rate(r), 0),
      fmt(r.sent > 0 ? ((r.sent - r.received) / r.sent) * 100 : NaN, 2),
      fmt(r.cpuS, 2),
      fmt(per1k(r), 4),
      fmt(r.rssMiB, 0),
      fmt(r.rttUs.p50, 1),
      fmt(r.rttUs.p99, 1),
    ]),
    notes: [
      'probes/s = probes sent / send window (fping and blackbox_exporter: / their whole run); loss = probes without an echo reply',
      "vantage: CPU = process.cpuUsage() of its process over the run (engine + the pacing loop), RSS = peak sampled every 100 ms (Node's own ~45 MiB included)",
      'fping: /usr/bin/time\'s %U + %S and %M (max RSS), RTTs from -C (us resolution below 1 ms); blackbox_exporter: utime + stime from /proc/<pid>/stat over the run, VmHWM, RTT = probe_icmp_duration_seconds{phase="rtt"}',
      ...(raw.have.fping ? [] : ['fping: not installed (apt-get install fping time)']),
      ...(raw.have.blackbox ? [] : ['blackbox_exporter: not installed (apt-get install prometheus-blackbox-exporter)']),
    ],
  });
  const verdicts = aims(raw);
  const neg = lb.filter((r) => r.nonPositiveRtts > 0);
  if (neg.length > 0)
    sections[0].notes.push(
      `vantage reported RTTs <= 0 (impossible): ${neg.map((r) => `${fmt(r.nonPositiveRtts, 0)} of ${fmt(r.received, 0)} (${fmt(r.targets, 0)} targets, ${r.mode})`).join('; ')}`,
    );
  const unmatched = lb.filter((r) => r.unmatched > 0);
  if (unmatched.length > 0) {
    sections[0].notes.push(
      `vantage's engine counted replies it could not match to a probe in flight (on loopback: replies whose kernel stamp, moved onto the monotonic clock, fell before the send stamp; they are dropped and the probe times out): ${unmatched.map((r) => `${fmt(r.unmatched, 0)} (${fmt(r.targets, 0)} targets, ${r.mode})`).join('; ')}`,
    );
  }

  const st = raw.sustained;
  if (st) {
    const full = st.windows.filter((w) => w.seconds >= (st.windowMs / 1000) * 0.9);
    sections.push({
      heading: `a2) sustained: ${fmt(st.rate, 0)} probes/s offered to ${fmt(st.targets, 0)} loopback targets for ${fmt(st.durationMs / 1000, 0)} s (past the engine's 30 s memory of finished probe keys), ${fmt(st.windowMs / 1000, 0)} s windows`,
      headers: [
        'window from s',
        'seconds',
        'sent/s',
        'answered/s',
        'CPU % of a core',
        'longest loop stall ms',
        'RSS MiB',
      ],
      rows: [
        ...st.windows.map((w) => [
          fmt(w.startS, 1),
          fmt(w.seconds, 1),
          fmt(w.sent / w.seconds, 0),
          fmt(w.received / w.seconds, 0),
          fmt((w.cpuS / w.seconds) * 100, 0),
          fmt(w.maxGapMs, 1),
          fmt(w.rssMiB, 0),
        ]),
        ...(st.killed
          ? [
              [
                `killed at ${fmt(st.wallS, 1)} s`,
                fmt(st.silentForS, 1),
                '-',
                '-',
                '-',
                `> ${fmt(st.silentForS * 1000, 0)}`,
                '-',
              ],
            ]
          : []),
      ],
      notes: [
        'paced by a timer (1 ms, or 10 probes apart at low rates) that never sends more than 100 ms worth at once: a stalled loop skips probes instead of bursting them',
        st.summary
          ? `whole run: ${fmt(st.summary.sent, 0)} sent, ${fmt(st.summary.received, 0)} answered, ${fmt(st.summary.missed, 0)} skipped while the loop was stalled, longest stall ${fmt(st.summary.maxLoopGapMs, 0)} ms`
          : `no summary: the helper made no progress for ${fmt(st.silentForS, 1)} s and was killed ${fmt(st.killAfterStallMs / 1000, 0)} s after its run should have ended`,
        `worst full window: ${full.length ? fmt(Math.min(...full.map((w) => w.sent / w.seconds)), 0) : '-'} sent/s`,
      ],
    });
  }

  if (raw.accuracy) {
    const rows = raw.accuracy.rows;
    sections.push({
      heading: `b) RTT accuracy: ${ACC_COUNT} echoes to the delayed responder ${raw.accuracy.truth.echo} (${raw.accuracy.truth.delayMs} ms) + ${ACC_COUNT} to ${raw.accuracy.truth.path} (kernel echo, path RTT), interleaved every ${ACC_INTERVAL_MS / 2} ms, from the agent namespace; error in us`,
      headers: [
        'tool / condition',
        'recv/sent',
        'RTT p50 us',
        'path p50 us',
        'err vs capture p50',
        'p99 |err|',
        'max |err|',
        'err vs configured p50',
        'p99 |err|',
      ],
      rows: rows.map((r) => [
        r.label,
        `${r.received}/${r.sent}`,
        fmt(r.rttUs.p50, 1),
        fmt(r.pathUs.p50, 1),
        r.captured.matched ? fmt(r.errCaptureUs.p50, 1) : 'unmatched',
        r.captured.matched ? fmt(r.errCaptureAbsUs.p99, 1) : '-',
        r.captured.matched ? fmt(r.errCaptureAbsUs.max, 1) : '-',
        fmt(r.errConfiguredUs.p50, 1),
        fmt(r.errConfiguredAbsUs.p99, 1),
      ]),
      notes: [
        `ground truth: tcpdump on ${raw.accuracy.truth.iface} (kernel stamps, ns) in the agent namespace; err vs capture = reported RTT - (reply stamp - request stamp), probe by probe`,
        "err vs configured = reported RTT - configured delay - the same tool's median path RTT; it also holds the user-space responder's own lateness (below), common to every tool",
        `responder lateness on the wire (capture RTT - delay - capture path p50), median / p99 us: ${rows.map((r) => `${r.label.replace(/ \(reference\)$/, '')} ${fmt(r.responderLateUs.p50, 0)} / ${fmt(r.responderLateUs.p99, 0)}`).join('; ')}`,
        `in flight: ${fmt(INFLIGHT_TARGETS, 0)} blackholed lab addresses (the /24, then the v6 /64) each with a probe pending at all times (1 s timeout), plus ${fmt(LOOPBACK_LOAD.targets, 0)} loopback targets answering ${fmt(LOOPBACK_LOAD.rate, 0)} probes/s, same process and sockets`,
        ...rows
          .filter((r) => r.load?.busy)
          .map(
            (r) =>
              `${r.label}: loop busy ${fmt(r.load.busy.busyFraction * 100, 1)} % (${r.load.busy.renders} renders of 20,000 series, longest ${fmt(r.load.busy.longestRenderMs, 1)} ms)`,
          ),
        ...rows
          .filter((r) => r.summaryAvgUs)
          .map(
            (r) =>
              `iputils ping prints 1 decimal at 10-100 ms, so its per-probe echo errors are quantised to 100 us; from its summary avg (3 decimals) its mean echo error vs capture is ${fmt(r.summaryAvgUs.echo - r.wireEchoMeanUs, 1)} us`,
          ),
        'blackbox_exporter: one /probe at a time (keep-alive HTTP from a helper in the namespace), RTT = probe_icmp_duration_seconds{phase="rtt"}',
        ...rows
          .filter((r) => r.captured.dropped > 0 || !r.captured.matched)
          .map(
            (r) =>
              `${r.label}: capture ${r.captured.matched ? '' : 'did not match the probes one to one; '}${r.captured.dropped} packets dropped by the kernel`,
          ),
      ],
    });
  } else {
    sections.push({ heading: `b) RTT accuracy: skipped (${raw.accuracySkipped})` });
  }
  sections.push({
    heading: 'aims (issue 4)',
    headers: ['aim', 'measured', 'target', 'met'],
    rows: verdicts.map((v) => [v.aim, v.measured, v.target, v.met === undefined ? '-' : v.met ? 'yes' : 'NO']),
  });
  raw.aims = verdicts;
  const notes = [`whole icmp benchmark took ${fmt(raw.durationMs / 1000, 1)} s`];
  if (raw.labBuildNote) notes.push(raw.labBuildNote);
  return {
    title:
      'icmp: ICMP engine throughput, CPU and memory on loopback; RTT accuracy against a packet capture (peers in the same run)',
    sections,
    notes,
    raw: {
      ...raw,
      loopback: lb.map((r) => ({
        ...rounded({ ...r, rttUs: undefined, outcomes: undefined }),
        rttUs: rounded(r.rttUs),
        outcomes: r.outcomes,
        probesPerS: Math.round(rate(r)),
        cpuSPer1k: Math.round(per1k(r) * 1e5) / 1e5,
      })),
      accuracy: raw.accuracy && {
        ...raw.accuracy,
        rows: raw.accuracy.rows.map((r) =>
          Object.fromEntries(
            Object.entries(r).map(([k, v]) => [k, v && typeof v === 'object' && 'p50' in v ? rounded(v, 2) : v]),
          ),
        ),
      },
    },
  };
}

/** Each aim of the issue against this run's numbers. */
function aims(raw) {
  const out = [];
  const lb = raw.loopback;
  const paced = lb.filter((r) => r.tool === 'vantage' && r.mode === `paced ${fmt(RATE, 0)}/s`);
  const max = lb.filter((r) => r.tool === 'vantage' && r.mode.startsWith('closed loop'));
  if (paced.length) {
    const worstRate = Math.min(...paced.map(rate));
    const lost = paced.reduce((a, r) => a + r.sent - r.received, 0);
    out.push({
      aim: `>= ${fmt(AIMS.rate, 0)} probes/s for ${fmt(DURATION_MS / 1000, 0)} s, no loss (paced, 1k-10k targets)`,
      measured: `${fmt(worstRate, 0)}/s worst, ${fmt(lost, 0)} lost; closed loop ${fmt(Math.min(...max.map(rate)), 0)}/s`,
      target: `>= ${fmt(AIMS.rate * 0.99, 0)}/s, 0 lost`,
      met: worstRate >= AIMS.rate * 0.99 && lost === 0,
    });
    const st = raw.sustained;
    if (st) {
      const full = st.windows.filter((w) => w.seconds >= (st.windowMs / 1000) * 0.9);
      const worst = full.length ? Math.min(...full.map((w) => w.sent / w.seconds)) : NaN;
      const stalled = st.killed || (st.summary?.maxLoopGapMs ?? 0) > 1000;
      const lostSt = st.summary ? st.summary.sent - st.summary.received : NaN;
      out.push({
        aim: `  ... sustained for ${fmt(st.durationMs / 1000, 0)} s (${fmt(st.targets, 0)} targets)`,
        measured: st.killed
          ? `last window reported ended at ${fmt(st.windows.length ? st.windows.at(-1).startS + st.windows.at(-1).seconds : 0, 0)} s; then no progress for ${fmt(st.silentForS, 0)} s (killed)`
          : `${fmt(worst, 0)}/s worst full window, ${fmt(lostSt, 0)} lost, ${fmt(st.summary.missed, 0)} skipped, longest stall ${fmt(st.summary.maxLoopGapMs, 0)} ms`,
        target: `>= ${fmt(AIMS.rate * 0.99, 0)}/s every window, 0 lost`,
        met: !stalled && worst >= AIMS.rate * 0.99 && lostSt === 0 && st.summary.missed === 0,
      });
    }
    const worstCpu = Math.max(...paced.map(per1k));
    out.push({
      aim: `CPU s per 1k probes at ${fmt(RATE, 0)}/s (worst N)`,
      measured: fmt(worstCpu, 4),
      target: `<= ${AIMS.cpuPer1k}`,
      met: worstCpu <= AIMS.cpuPer1k,
    });
    const fp = lb.filter((r) => r.tool === 'fping');
    if (fp.length)
      out.push({
        aim: 'CPU per probe below fping (same N, same offered rate)',
        measured: paced
          .map((r) => `${fmt(per1k(r), 4)} vs ${fmt(per1k(fp.find((f) => f.targets === r.targets) ?? {}), 4)}`)
          .join(', '),
        target: 'vantage < fping',
        met: paced.every(
          (r) => per1k(r) < per1k(fp.find((f) => f.targets === r.targets) ?? { cpuS: Infinity, sent: 1 }),
        ),
      });
  }
  const bb = lb.find((r) => r.tool === 'blackbox_exporter' && r.targets === TARGET_COUNTS[0]);
  const same = lb.find((r) => r.tool === 'vantage' && r.mode.includes('blackbox_exporter'));
  if (bb && same) {
    const ratio = per1k(bb) / per1k(same);
    out.push({
      aim: 'less CPU per probe than blackbox_exporter at its rate',
      measured: `${fmt(ratio, 1)}x (${fmt(per1k(same), 4)} vs ${fmt(per1k(bb), 4)} CPU s / 1k at ${fmt(rate(bb), 0)}/s)`,
      target: `>= ${AIMS.vsBlackbox}x`,
      met: ratio >= AIMS.vsBlackbox,
    });
  }
  const acc = raw.accuracy?.rows ?? [];
  const both = acc.find((r) => r.tool === 'vantage' && r.load?.inflight > 0 && r.load?.busy);
  if (both) {
    const worst = acc.filter((r) => r.tool === 'vantage' && r.captured.matched);
    out.push({
      aim: `RTT error vs capture, median (${both.label})`,
      measured: `${fmt(both.errCaptureUs.p50, 1)} us (all 4 conditions: ${worst.map((r) => fmt(r.errCaptureUs.p50, 1)).join(' / ')})`,
      target: `<= ${AIMS.errMedianUs} us`,
      met: both.captured.matched ? Math.abs(both.errCaptureUs.p50) <= AIMS.errMedianUs : undefined,
    });
    out.push({
      aim: `RTT error vs capture, p99 |err| (${both.label})`,
      measured: `${fmt(both.errCaptureAbsUs.p99, 1)} us (all 4: ${worst.map((r) => fmt(r.errCaptureAbsUs.p99, 1)).join(' / ')})`,
      target: `<= ${fmt(AIMS.errP99Us, 0)} us`,
      met: both.captured.matched ? both.errCaptureAbsUs.p99 <= AIMS.errP99Us : undefined,
    });
    out.push({
      aim: 'RTT error vs configured delay + path, median / p99 |err| (same run)',
      measured: `${fmt(both.errConfiguredUs.p50, 1)} / ${fmt(both.errConfiguredAbsUs.p99, 1)} us (ping: ${(() => {
        const p = acc.find((r) => r.tool === 'ping');
        return p ? `${fmt(p.errConfiguredUs.p50, 1)} / ${fmt(p.errConfiguredAbsUs.p99, 1)}` : '-';
      })()} us)`,
      target: `<= ${AIMS.errMedianUs} / ${fmt(AIMS.errP99Us, 0)} us`,
      met: Math.abs(both.errConfiguredUs.p50) <= AIMS.errMedianUs && both.errConfiguredAbsUs.p99 <= AIMS.errP99Us,
    });
  }
  return out;
}

await runStandalone(import.meta.url, run);
