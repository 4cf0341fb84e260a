// The benchmark suite: runs every benchmark in turn, prints its tables, a summary of the headline
// numbers next to the peers', limits or lab ground truth, and writes the raw numbers to
// bench/results/latest.json. `npm run bench` builds dist/ first; `node bench/run.mjs` uses whatever
// is in dist/. The lab benchmark compiles the network lab itself when its build is missing or stale.
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { fmt, installExitCleanup, killAllChildren, median, printResult, ROOT, table, warnIfStale } from './lib.mjs';
import { run as icmp } from './icmp.mjs';
import { run as lab } from './lab.mjs';
import { run as metricsRender } from './metrics-render.mjs';
import { run as schedulerLag } from './scheduler-lag.mjs';
import { run as startup } from './startup.mjs';
import { run as tcpConnect } from './tcp-connect.mjs';
import { run as dns } from './dns.mjs';
import { run as https } from './https.mjs';
import { run as traceroute } from './traceroute.mjs';
import { run as diagnose } from './diagnose.mjs';

const BENCHMARKS = [
  ['startup', startup],
  ['scheduler-lag', schedulerLag],
  ['metrics-render', metricsRender],
  ['tcp-connect', tcpConnect],
  ['lab', lab],
  ['icmp', icmp],
  ['traceroute', traceroute],
  ['dns', dns],
  ['https', https],
  ['diagnose', diagnose],
];

function gitCommit() {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .toString()
      .trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .toString()
      .trim();
    return dirty ? `${sha}+dirty-src` : sha;
  } catch {
    return 'unknown';
  }
}

/** Headline numbers: [measure, measured, reference, what the reference is (a peer, a limit, the lab's truth)]. */
function summaryRows(results) {
  const rows = [];
  const r = (name) => results[name]?.raw;
  const s = r('startup');
  if (s) {
    const bb = s.blackbox_exporter?.summary;
    rows.push([
      'startup: spawn -> /metrics ready, median ms',
      fmt(s.vantage.summary.p50, 1),
      bb ? fmt(bb.p50, 1) : 'not installed',
      'blackbox_exporter',
    ]);
  }
  const l = r('scheduler-lag');
  if (l) {
    rows.push([
      'scheduler lag p50 ms (1000 jobs @ 1 s)',
      fmt(l.vantage.summary.p50, 3),
      fmt(l.nodeCron.summary.p50, 3),
      'node-cron 4',
    ]);
    rows.push([
      'scheduler lag p99 ms (1000 jobs @ 1 s)',
      fmt(l.vantage.summary.p99, 3),
      fmt(l.nodeCron.summary.p99, 3),
      'node-cron 4',
    ]);
    rows.push([
      'scheduler runs started > 1 ms early',
      fmt(l.vantage.earlyBeyondLimit, 0),
      '0',
      'limit (IntervalTrigger)',
    ]);
  }
  const m = r('metrics-render');
  if (m) {
    for (const sc of m.scales.filter((x) => x.targetSeries > 0)) {
      rows.push([`/metrics render p50 ms, ${fmt(sc.text.series, 0)} series (text)`, fmt(sc.text.ms.p50, 2), '-', '-']);
    }
  }
  const t = r('tcp-connect');
  if (t) {
    rows.push([
      'tcp connect p50 us (127.0.0.1)',
      fmt(t.vantageConnectUs.p50, 1),
      t.curlConnectUs.p50 !== undefined ? fmt(t.curlConnectUs.p50, 1) : 'not installed',
      'curl',
    ]);
    rows.push(['`vantage probe tcp` wall p50 ms (start-up)', fmt(t.cliProbe.wallMs.p50, 1), '-', '-']);
    rows.push([
      '`vantage probe tcp` reported connect p50 us',
      fmt(t.cliProbe.reportedConnectUs.p50, 1),
      fmt(t.vantageConnectUs.p50, 1),
      'in-process p50 (warm)',
    ]);
  }
  const lb = r('lab');
  if (lb?.skipped) rows.push([`network lab: skipped (${lb.skipped})`, '-', '-', '-']);
  else if (lb) {
    rows.push([
      `lab up() + down() median ms (worst of ${lb.cycles})`,
      `${fmt(lb.upDown.total.p50, 0)} (${fmt(lb.upDown.total.max, 0)})`,
      '< 10,000',
      'limit (issue)',
    ]);
    if (lb.echo.length > 0) {
      rows.push([
        'lab ICMP echo: worst |ping avg - delay| ms (1/20/100 ms, v4+v6)',
        fmt(lb.echoWorstAbsOffsetMs, 3),
        '<= 1.000',
        'limit (issue)',
      ]);
      rows.push([
        'lab ICMP echo: worst |ping median - delay| ms (1/20 ms)',
        fmt(lb.echoWorstAbsMedianOffsetMs, 3),
        '<= 1.000',
        'limit (issue)',
      ]);
    }
    if (lb.dns)
      rows.push([
        `lab DNS slow name: dig median Query time ms`,
        fmt(lb.dns.summary.p50, 1),
        fmt(lb.dns.configuredMs, 1),
        'configured (truth)',
      ]);
    for (const h of lb.https ?? [])
      rows.push([
        `lab HTTPS ttfb: curl median ms (${h.proto})`,
        fmt(h.summary.p50, 2),
        fmt(h.configuredMs, 2),
        'configured (truth)',
      ]);
    if (lb.loss)
      rows.push([
        `lab loss to lossy.v4, % of ${lb.loss.sent} pings`,
        fmt(lb.loss.measured * 100, 1),
        fmt(lb.loss.configured * 100, 1),
        'configured (truth)',
      ]);
  }
  const ic = r('icmp');
  if (ic?.skipped) rows.push([`icmp: skipped (${ic.skipped})`, '-', '-', '-']);
  else if (ic) {
    const lb = ic.loopback ?? [];
    const n = Math.max(...lb.map((x) => x.targets));
    const ours = lb.find(
      (x) => x.tool === 'vantage' && x.targets === n && x.mode.startsWith('paced') && !x.mode.includes('blackbox'),
    );
    const max = lb.find((x) => x.tool === 'vantage' && x.targets === n && x.mode.startsWith('closed'));
    const fp = lb.find((x) => x.tool === 'fping' && x.targets === n);
    const bb = lb.find((x) => x.tool === 'blackbox_exporter');
    const atBb = lb.find((x) => x.tool === 'vantage' && x.mode.includes('blackbox'));
    if (ours) {
      rows.push([
        `icmp: probes/s, ${fmt(n, 0)} loopback targets (paced; closed loop)`,
        `${fmt(ours.probesPerS, 0)}; ${max ? fmt(max.probesPerS, 0) : '-'}`,
        fp ? fmt(fp.probesPerS, 0) : 'not installed',
        'fping, same offered rate',
      ]);
      rows.push([
        `icmp: CPU s per 1k probes @ ${fmt(ours.probesPerS, 0)}/s`,
        fmt(ours.cpuSPer1k, 4),
        fp ? fmt(fp.cpuSPer1k, 4) : 'not installed',
        'fping',
      ]);
    }
    if (bb && atBb)
      rows.push([
        `icmp: CPU s per 1k probes @ ${fmt(bb.probesPerS, 0)}/s`,
        fmt(atBb.cpuSPer1k, 4),
        fmt(bb.cpuSPer1k, 4),
        'blackbox_exporter (100 concurrent)',
      ]);
    const st = ic.sustained;
    if (st) {
      const full = st.windows.filter((w) => w.seconds >= (st.windowMs / 1000) * 0.9);
      const worst = full.length ? Math.min(...full.map((w) => w.sent / w.seconds)) : NaN;
      rows.push([
        `icmp: sustained ${fmt(st.durationMs / 1000, 0)} s, worst ${fmt(st.windowMs / 1000, 0)} s window probes/s`,
        st.killed
          ? `stalled (killed after ${fmt(st.silentForS, 0)} s silent)`
          : `${fmt(worst, 0)} (stall ${fmt(st.summary?.maxLoopGapMs, 0)} ms)`,
        `>= ${fmt(st.rate * 0.99, 0)}`,
        'aim (issue)',
      ]);
    }
    const acc = ic.accuracy?.rows ?? [];
    const both = acc.find((x) => x.tool === 'vantage' && x.load?.inflight > 0 && x.load?.busy);
    const ping = acc.find((x) => x.tool === 'ping');
    const bbAcc = acc.find((x) => x.tool === 'blackbox_exporter');
    if (both) {
      rows.push([
        'icmp RTT error vs capture, median us (1k in flight, loop busy)',
        fmt(both.errCaptureUs.p50, 1),
        ping ? fmt(ping.errCaptureUs.p50, 1) : '-',
        'iputils ping (idle)',
      ]);
      rows.push([
        'icmp RTT error vs capture, p99 |err| us (same)',
        fmt(both.errCaptureAbsUs.p99, 1),
        ping ? fmt(ping.errCaptureAbsUs.p99, 1) : '-',
        'iputils ping (idle)',
      ]);
      if (bbAcc)
        rows.push([
          'icmp RTT error vs capture, median / p99 |err| us',
          `${fmt(both.errCaptureUs.p50, 1)} / ${fmt(both.errCaptureAbsUs.p99, 1)}`,
          `${fmt(bbAcc.errCaptureUs.p50, 1)} / ${fmt(bbAcc.errCaptureAbsUs.p99, 1)}`,
          'blackbox_exporter (idle)',
        ]);
    }
    for (const a of (ic.aims ?? []).filter((x) => x.met === false))
      rows.push([`icmp aim NOT met: ${a.aim.trim()}`, a.measured, a.target, 'aim (issue 4)']);
  }
  const tr = r('traceroute');
  if (tr?.skipped) rows.push([`traceroute: skipped (${tr.skipped})`, '-', '-', '-']);
  else if (tr) {
    const wallOf = (t, tool) => median((t?.tools?.[tool] ?? []).map((x) => x.wallMs));
    const t30 = tr.lab2?.targets?.[0];
    if (t30)
      rows.push([
        `traceroute 30 hops, ~20 ms RTT: ms (warm trace; traceroute wall)`,
        fmt(t30.warm?.[3]?.ms?.p50, 1),
        fmt(wallOf(t30, 'traceroute -I -n'), 1),
        'traceroute -I -n',
      ]);
    for (const t of tr.lab1?.targets ?? []) {
      const cli = median((t.tools['vantage probe traceroute'] ?? []).map((x) => x.traceMs));
      rows.push([
        `traceroute ${t.label}: ms (in record; peer wall)`,
        fmt(cli, 1),
        fmt(wallOf(t, 'traceroute -I -n'), 1),
        'traceroute -I -n',
      ]);
    }
    for (const a of tr.aims ?? [])
      rows.push([`traceroute aim: ${a.aim.trim()}`, a.met ? 'met' : 'NOT met', a.target, 'aim (issue 5)']);
  }
  const dn = r('dns');
  if (dn) {
    const slow = Object.entries(dn).find(([k]) => k.startsWith('udp slow'))?.[1];
    if (slow)
      rows.push([
        'dns: 200 ms name over UDP, median ms (ours; dig)',
        fmt(median(slow.ours.times), 2),
        slow.dig ? fmt(median(slow.dig), 0) : '-',
        'dig (whole ms)',
      ]);
  }
  for (const v of r('https')?.verdicts ?? []) {
    rows.push([`https: ${v.injected} lands in (${v.tool})`, v.landed, v.expected, 'the phase the lab server delays']);
  }
  return rows;
}

async function main() {
  installExitCleanup();
  warnIfStale();
  const startedAt = new Date();
  const env = {
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpus: `${cpus().length} x ${cpus()[0]?.model ?? '?'}`,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    commit: gitCommit(),
  };
  process.stdout.write(
    `Vantage benchmarks — ${startedAt.toISOString()} — node ${env.node}, ${env.cpus}, commit ${env.commit}\n\n`,
  );

  const results = {};
  let failures = 0;
  const t0 = performance.now();
  for (const [name, run] of BENCHMARKS) {
    const b0 = performance.now();
    try {
      const result = await run();
      printResult(result);
      results[name] = { durationMs: Math.round(performance.now() - b0), raw: result.raw };
    } catch (err) {
      failures++;
      process.stdout.write(`== ${name}: FAILED ==\n${err?.stack ?? err}\n\n`);
      results[name] = { durationMs: Math.round(performance.now() - b0), error: String(err?.stack ?? err) };
    } finally {
      await killAllChildren();
    }
  }
  const totalMs = performance.now() - t0;

  process.stdout.write('== summary (same run) ==\n');
  process.stdout.write(`${table(['measure', 'measured', 'reference', 'reference is'], summaryRows(results))}\n`);
  const took = BENCHMARKS.map(([n]) => `${n} ${fmt((results[n]?.durationMs ?? 0) / 1000, 1)} s`).join(', ');
  process.stdout.write(`\nsuite took ${fmt(totalMs / 1000, 1)} s (${took}); ${failures} benchmark(s) failed\n`);

  const dir = join(ROOT, 'bench', 'results');
  await mkdir(dir, { recursive: true });
  const file = join(dir, 'latest.json');
  await writeFile(
    file,
    `${JSON.stringify({ startedAt: startedAt.toISOString(), totalMs: Math.round(totalMs), env, results }, null, 2)}\n`,
  );
  process.stdout.write(`raw numbers: ${file}\n`);
  if (failures > 0) process.exitCode = 1;
}

await main();
