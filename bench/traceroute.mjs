// Traceroute: time to complete and hop list, side by side in the same run, from inside the lab's
// agent namespace (issue 5, "Benchmark"):
//   vantage        `vantage probe traceroute T --json` (a fresh process: wall time, and the trace
//                  phase it records), and the agent's trace() on a warm engine (bench/_icmp-probe.mjs)
//   peers          `traceroute -I -n` (defaults: 3 probes, 16 in flight, waits 5 s / 3x / 10x),
//                  `traceroute -I -n -N 32`, `mtr -r -n -c 1`, `scamper -c 'trace -P icmp-paris'`
// Lab 1 is the default spec (8 routers, hop 5 silent, echo responder 20 ms): a reached host behind
// the silent hop, the blackholed LAN, the ECMP diamond and the 20 ms echo host. Lab 2 has 29 routers
// and no silent hop, so the echo host is hop 30 with a 20 ms round trip: "a 30-hop trace in one
// round trip + 10 ms". Hop lists are compared with `traceroute -I -n`'s. Every command is bounded;
// labs are removed in finally and on signals; traffic stays in 198.18.0.0/15.
import { loadLab, withLab, withLabCleanup } from './labkit.mjs';
import { execTracked, fmt, icmpProbe, installed, rounded, runStandalone, summarize, VANTAGE_BIN } from './lib.mjs';

const RUNS = 3;
const WARM_RUNS = 10;
const TOOL_TIMEOUT_MS = 120_000;
const LAB2 = { routers: 29, silentHop: 0 };
/** Vantage's default probe_timeout (README); the CLI runs use the defaults, the warm runs pass it. */
const VANTAGE_TIMEOUT_MS = 1000;
/** Timer lateness allowed on top of a timeout (libuv timers are ms-grained and run late). */
const TIMER_SLACK_MS = 10;

const PEERS = [
  { name: 'traceroute -I -n', bin: 'traceroute', argv: (t) => ['traceroute', '-I', '-n', t], parse: parseTraceroute },
  {
    name: 'traceroute -I -n -N 32',
    bin: 'traceroute',
    argv: (t) => ['traceroute', '-I', '-n', '-N', '32', t],
    parse: parseTraceroute,
  },
  { name: 'mtr -r -n -c 1', bin: 'mtr', argv: (t) => ['mtr', '-r', '-n', '-c', '1', t], parse: parseMtr },
  {
    name: 'scamper icmp-paris',
    bin: 'scamper',
    argv: (t) => ['scamper', '-c', 'trace -P icmp-paris', '-i', t],
    parse: parseTraceroute,
  },
];
const REFERENCE = 'traceroute -I -n';

// ---------------------------------------------------------------------------------------------
// Parsing: every tool's output becomes [{ ttl, addresses: [...] }] ('*' hops have none)

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/** traceroute and scamper's text output: "ttl  addr  rtt ms [addr rtt ms]..." or "ttl  * * *". */
function parseTraceroute(out) {
  const hops = [];
  for (const line of out.split('\n')) {
    const m = /^\s*(\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const addresses = [...new Set(m[2].split(/\s+/).filter((t) => IPV4.test(t)))];
    hops.push({ ttl: Number(m[1]), addresses, unreachable: /![HNPX]/.test(m[2]) });
  }
  return hops;
}

/** mtr -r: "  9.|-- 198.19.1.21  0.0% ..." ("???" when silent); further addresses on "    |  `-- addr" lines. */
function parseMtr(out) {
  const hops = [];
  for (const line of out.split('\n')) {
    const m = /^\s*(\d+)\.\|--\s+(\S+)/.exec(line);
    if (m) hops.push({ ttl: Number(m[1]), addresses: IPV4.test(m[2]) ? [m[2]] : [] });
    const extra = /^\s+\|\s+`--\s+(\S+)/.exec(line);
    if (extra && hops.length && IPV4.test(extra[1])) hops.at(-1).addresses.push(extra[1]);
  }
  return hops;
}

const hopText = (hops) =>
  hops.map((h) => (h.addresses.length ? h.addresses.join('|') : '*') + (h.unreachable ? '!' : '')).join(' ');
const lastResponding = (hops) => hops.reduce((last, h) => (h.addresses.length ? h.ttl : last), 0);

/**
 * Compares a hop list with the reference hop by hop up to the last hop either answered at
 * (trailing silent hops are not compared). 'same', or where and how they differ.
 */
function compareHops(hops, ref) {
  const upTo = Math.max(lastResponding(hops), lastResponding(ref));
  const diffs = [];
  for (let ttl = 1; ttl <= upTo; ttl++) {
    const a = [...(hops.find((h) => h.ttl === ttl)?.addresses ?? [])].sort();
    const b = [...(ref.find((h) => h.ttl === ttl)?.addresses ?? [])].sort();
    if (a.join() === b.join()) continue;
    const subset = a.length > 0 && a.every((x) => b.includes(x));
    diffs.push(`hop ${ttl}: ${a.join('|') || '*'}${subset ? ` (one of ${b.join('|')})` : ` vs ${b.join('|') || '*'}`}`);
  }
  return diffs.length === 0 ? 'same' : diffs.join('; ');
}

// ---------------------------------------------------------------------------------------------
// Runs

async function runPeer(lab, peer, target) {
  const ns = lab.truth.namespaces.agent;
  const r = await execTracked('ip', ['netns', 'exec', ns, ...peer.argv(target)], { timeoutMs: TOOL_TIMEOUT_MS });
  if (r.timedOut) return { tool: peer.name, wallMs: r.wallMs, error: `killed after ${TOOL_TIMEOUT_MS / 1000} s` };
  const hops = peer.parse(r.stdout);
  if (hops.length === 0)
    return {
      tool: peer.name,
      wallMs: r.wallMs,
      error: `exit ${r.signal ?? r.code}, no hops: ${(r.stderr || r.stdout).trim().slice(0, 300)}`,
    };
  return { tool: peer.name, wallMs: r.wallMs, hops, reached: hops.some((h) => h.addresses.includes(target)) };
}

async function runVantageCli(lab, target) {
  const ns = lab.truth.namespaces.agent;
  const r = await execTracked(
    'ip',
    ['netns', 'exec', ns, process.execPath, VANTAGE_BIN, 'probe', 'traceroute', target, '--json'],
    { timeoutMs: 30_000 },
  );
  const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
  if (!line)
    return {
      tool: 'vantage probe traceroute',
      wallMs: r.wallMs,
      error: `exit ${r.signal ?? r.code}: ${(r.stderr || r.stdout).trim().slice(0, 300)}`,
    };
  const rec = JSON.parse(line);
  return {
    tool: 'vantage probe traceroute',
    wallMs: r.wallMs,
    traceMs: rec.phasesMs?.trace,
    hops: (rec.hops ?? []).map((h) => ({
      ttl: h.ttl,
      addresses: h.addresses,
      unreachable: Boolean(h.unreachable),
      answered: h.rttMs.length,
    })),
    reached: rec.reached,
    code: rec.error?.code,
  };
}

async function runVantageWarm(lab, target, probesPerHop) {
  const args = { address: target, runs: WARM_RUNS, probesPerHop, probeTimeoutMs: VANTAGE_TIMEOUT_MS };
  return (await icmpProbe('trace', args, { ns: lab.truth.namespaces.agent, timeoutMs: 62_000 })).runs;
}

/** Every tool on one target: vantage CLI and peers RUNS times (peers once when `peersOnce`), vantage warm WARM_RUNS times. */
async function traceTarget(
  lab,
  label,
  target,
  have,
  { peersOnce = false, concurrentPeers = false, warmProbesPerHop = [3] } = {},
) {
  const results = { label, target, tools: {} };
  const add = (r) => (results.tools[r.tool] ??= []).push(r);
  for (let i = 0; i < RUNS; i++) add(await runVantageCli(lab, target));
  results.warm = {};
  for (const p of warmProbesPerHop) results.warm[p] = await runVantageWarm(lab, target, p);
  const peers = PEERS.filter((p) => have[p.bin]);
  const slow = (p) => p.bin === 'mtr' || p.bin === 'scamper';
  if (concurrentPeers) {
    // Waiting out timeouts dominates every peer here: running them side by side changes little but
    // saves minutes. One run each.
    for (const r of await Promise.all(peers.map((p) => runPeer(lab, p, target)))) add(r);
  } else {
    for (const p of peers) {
      const n = peersOnce || slow(p) ? 1 : RUNS;
      for (let i = 0; i < n; i++) add(await runPeer(lab, p, target));
    }
  }
  return results;
}

export async function run() {
  const t0 = performance.now();
  const { Lab, skipped, buildNote } = await loadLab();
  if (skipped)
    return {
      title: 'traceroute: time to complete and hop lists in the lab',
      sections: [],
      notes: [`skipped: ${skipped}`],
      raw: { skipped },
    };
  const tools = {
    traceroute: await installed('traceroute'),
    mtr: await installed('mtr'),
    scamper: await installed('scamper'),
  };
  const raw = { runs: RUNS, warmRuns: WARM_RUNS, tools };
  await withLabCleanup(async () => {
    raw.lab1 = await withLab(Lab, {}, async (lab) => {
      const t = lab.truth;
      const out = {
        spec: t.spec,
        truth: { hops: t.hops.map((h) => h.v4), silentHop: t.silentHop, ecmp: t.ecmp, echoDelayMs: t.echo.delayMs },
        targets: [],
      };
      out.targets.push(await traceTarget(lab, `host behind silent hop ${t.silentHop}`, t.hosts.up[0].v4, tools));
      out.targets.push(await traceTarget(lab, 'ECMP diamond', t.ecmp.v4, tools));
      out.targets.push(
        await traceTarget(lab, `echo host (${t.echo.delayMs} ms), silent hop ${t.silentHop}`, t.echo.v4, tools, {
          warmProbesPerHop: [3, 1],
        }),
      );
      out.targets.push(
        await traceTarget(lab, 'blackholed LAN', t.blackhole.v4, tools, {
          concurrentPeers: true,
          warmProbesPerHop: [3],
        }),
      );
      return out;
    });
    raw.lab2 = await withLab(Lab, LAB2, async (lab) => {
      const t = lab.truth;
      const out = {
        spec: t.spec,
        truth: { hops: t.hops.map((h) => h.v4), silentHop: t.silentHop, echoDelayMs: t.echo.delayMs },
        targets: [],
      };
      out.targets.push(
        await traceTarget(
          lab,
          `echo host (${t.echo.delayMs} ms) at hop ${t.spec.routers + 1}, no silent hop`,
          t.echo.v4,
          tools,
          { warmProbesPerHop: [3, 1] },
        ),
      );
      return out;
    });
  });
  raw.durationMs = Math.round(performance.now() - t0);
  return report(raw, buildNote);
}

// ---------------------------------------------------------------------------------------------
// Report

const med = (values) => summarize(values.filter((v) => Number.isFinite(v))).p50;
const range = (values) => {
  const s = summarize(values.filter((v) => Number.isFinite(v)));
  return s.count > 1 ? `${fmt(s.p50, 1)} (${fmt(s.min, 1)}-${fmt(s.max, 1)})` : fmt(s.p50, 1);
};

/** Round trip of the destination seen by the warm runs (ms): the slowest answer at its hop. */
function destinationRttMs(target) {
  const rtts = [];
  for (const r of target.warm?.[3] ?? []) {
    const dest = r.hops.find((h) => h.addresses.includes(target.target));
    if (dest?.maxRttMs) rtts.push(dest.maxRttMs);
  }
  return med(rtts);
}

function targetSection(lab, target) {
  const ref = target.tools[REFERENCE]?.find((r) => r.hops);
  const rows = [];
  for (const [tool, runs] of Object.entries(target.tools)) {
    const ok = runs.filter((r) => r.hops);
    const first = ok[0];
    const hopCount = first
      ? first.reached
        ? first.hops.findIndex((h) => h.addresses.includes(target.target)) + 1
        : lastResponding(first.hops)
      : NaN;
    rows.push([
      tool,
      runs.length,
      range(runs.map((r) => r.wallMs)),
      tool.startsWith('vantage') ? range(runs.map((r) => r.traceMs)) : '-',
      first ? (first.reached ? 'yes' : 'no') : 'error',
      fmt(hopCount, 0),
      ref && first
        ? tool === REFERENCE
          ? 'reference'
          : [...new Set(ok.map((r) => compareHops(r.hops, ref.hops)))].join(' / ')
        : (runs.find((r) => r.error)?.error ?? '-'),
    ]);
  }
  for (const [p, warm] of Object.entries(target.warm ?? {})) {
    const first = warm[0];
    const incomplete = warm.filter((r) => r.hops.some((h) => h.addresses.length > 0 && h.answered < Number(p))).length;
    rows.push([
      `vantage trace(), warm, ${p} probe${p === '1' ? '' : 's'}/hop`,
      warm.length,
      range(warm.map((r) => r.ms)),
      range(warm.map((r) => r.ms)),
      first.reached ? 'yes' : 'no',
      fmt(first.reached ? first.hops.length : first.lastRespondingHop, 0),
      ref
        ? [...new Set(warm.map((r) => compareHops(r.hops, ref.hops)))].join(' / ') +
          (incomplete ? `; ${incomplete}/${warm.length} runs lost probes at answering hops` : '')
        : '-',
    ]);
  }
  const notes = [];
  for (const [tool, runs] of Object.entries(target.tools)) {
    const lists = [...new Set(runs.filter((r) => r.hops).map((r) => hopText(r.hops)))];
    for (const l of lists) notes.push(`${tool}: ${l}`);
  }
  return {
    heading: `${lab}: ${target.label} (${target.target})`,
    headers: [
      'tool',
      'runs',
      'wall ms p50 (min-max)',
      'trace ms (in record)',
      'reached',
      'hops',
      `hops vs ${REFERENCE}`,
    ],
    rows,
    notes,
  };
}

function aims(raw) {
  const out = [];
  const lab1 = raw.lab1.targets;
  const lab2 = raw.lab2.targets[0];
  const rtt2 = destinationRttMs(lab2);
  const warm2 = lab2.warm[3].map((r) => r.ms);
  const warm2one = lab2.warm[1]?.map((r) => r.ms) ?? [];
  const cli2 = (lab2.tools['vantage probe traceroute'] ?? []).map((r) => r.traceMs);
  out.push({
    aim: `30-hop trace (${fmt(rtt2, 1)} ms round trip) in one round trip + 10 ms, default 3 probes/hop`,
    measured: `${fmt(med(warm2), 1)} ms warm, ${fmt(med(cli2), 1)} ms in record (CLI)`,
    target: `<= ${fmt(rtt2 + 10, 1)} ms`,
    met: med(warm2) <= rtt2 + 10,
  });
  if (warm2one.length)
    out.push({
      aim: '  same, 1 probe/hop (every TTL sent once, at once)',
      measured: `${fmt(med(warm2one), 1)} ms warm`,
      target: `<= ${fmt(rtt2 + 10, 1)} ms`,
      met: med(warm2one) <= rtt2 + 10,
    });
  const echo1 = lab1.find((t) => t.label.startsWith('echo host'));
  const rtt1 = destinationRttMs(echo1);
  const cost = med(echo1.warm[3].map((r) => r.ms)) - med(warm2);
  out.push({
    aim: `silent hop costs <= 10 round trips (echo host, warm, vs the same trace without a silent hop)`,
    measured: `${fmt(cost, 1)} ms = ${fmt(cost / rtt1, 1)} round trips`,
    target: `<= ${fmt(10 * rtt1, 0)} ms`,
    met: cost <= 10 * rtt1,
  });
  const bh = lab1.find((t) => t.label === 'blackholed LAN');
  const bhWarm = med(bh.warm[3].map((r) => r.ms));
  const bhCli = med((bh.tools['vantage probe traceroute'] ?? []).map((r) => r.traceMs));
  // Time from the last answer (reply or ICMP error) to the end of the trace, per warm run.
  const afterLast = med(bh.warm[3].map((r) => r.ms - r.lastAnswerMs));
  const lastAnswer = med(bh.warm[3].map((r) => r.lastAnswerMs));
  out.push({
    aim: 'blackholed destination ends within one probe timeout of the last answer',
    measured: `ended ${fmt(afterLast, 1)} ms after the last answer (at ${fmt(lastAnswer, 1)} ms); ${fmt(bhWarm, 0)} ms warm, ${fmt(bhCli, 0)} ms in record (CLI)`,
    target: `<= ${fmt(VANTAGE_TIMEOUT_MS, 0)} ms (+ ${TIMER_SLACK_MS} ms timer slack)`,
    met: afterLast <= VANTAGE_TIMEOUT_MS + TIMER_SLACK_MS,
  });
  const same = [];
  for (const t of [...lab1, lab2]) {
    const ref = t.tools[REFERENCE]?.find((r) => r.hops);
    const cli = t.tools['vantage probe traceroute'] ?? [];
    if (!ref) continue;
    const verdicts = [...new Set(cli.filter((r) => r.hops).map((r) => compareHops(r.hops, ref.hops)))];
    same.push({ label: t.label, verdicts, ecmp: t.label === 'ECMP diamond' });
  }
  const identical = same.filter((s) => !s.ecmp).every((s) => s.verdicts.length === 1 && s.verdicts[0] === 'same');
  out.push({
    aim: `hops identical to ${REFERENCE} (paths without load balancing)`,
    measured: same
      .filter((s) => !s.ecmp)
      .map((s) => `${s.label}: ${s.verdicts.join(' / ')}`)
      .join('; '),
    target: 'same',
    met: identical,
  });
  const ecmp = lab1.find((t) => t.label === 'ECMP diamond');
  const hop = raw.lab1.truth.ecmp.hop;
  const ourBranches = [
    ...(ecmp.tools['vantage probe traceroute'] ?? []),
    ...ecmp.warm[3].map((r) => ({ hops: r.hops })),
  ]
    .filter((r) => r.hops)
    .map((r) => r.hops.find((h) => h.ttl === hop)?.addresses.length ?? 0);
  const theirs = (ecmp.tools[REFERENCE] ?? [])
    .filter((r) => r.hops)
    .map((r) => r.hops.find((h) => h.ttl === hop)?.addresses.length ?? 0);
  out.push({
    aim: `ECMP: one branch at hop ${hop} in every vantage trace`,
    measured: `vantage ${ourBranches.filter((n) => n === 1).length}/${ourBranches.length} traces with one branch; ${REFERENCE} ${theirs.filter((n) => n > 1).length}/${theirs.length} runs with both`,
    target: 'all one branch',
    met: ourBranches.length > 0 && ourBranches.every((n) => n === 1),
  });
  return out;
}

function report(raw, buildNote) {
  const sections = [];
  for (const t of raw.lab1.targets)
    sections.push(targetSection(`lab 1 (${raw.lab1.spec.routers} routers, silent hop ${raw.lab1.spec.silentHop})`, t));
  for (const t of raw.lab2.targets)
    sections.push(targetSection(`lab 2 (${raw.lab2.spec.routers} routers, no silent hop)`, t));
  const verdicts = aims(raw);
  raw.aims = verdicts;
  sections.push({
    heading: 'aims (issue 5)',
    headers: ['aim', 'measured', 'target', 'met'],
    rows: verdicts.map((v) => [v.aim, v.measured, v.target, v.met ? 'yes' : 'NO']),
    notes: [
      `vantage defaults: probe_timeout ${VANTAGE_TIMEOUT_MS} ms, 3 probes/hop, every TTL in flight at once; once the destination answered, silent hops are given up after a few of the slowest round trips (README: 5, at least 100 ms) instead of the timeout`,
      "traceroute -I defaults: 3 probes/hop, 16 probes in flight (-N), waits max 5 s, 3x the hop's round trip (here) / 10x (near): its wait for a silent hop adapts too; mtr -c 1 paces one probe per hop per second-ish and waits for stragglers; scamper traces hop by hop (20 pps, 5 s wait, 2 attempts, gap limit 5)",
      "wall ms = spawn -> exit of `ip netns exec <agent> <tool>` (vantage: includes Node start-up, ~0.3 s); trace ms = the record's phasesMs.trace (a fresh process: cold code); warm = trace() run repeatedly on one engine",
      'blackholed LAN: the four peers ran side by side (one run each) as they mostly wait out timeouts',
    ],
  });
  const notes = [`whole traceroute benchmark took ${fmt(raw.durationMs / 1000, 1)} s`];
  if (!raw.tools.scamper) notes.push('scamper not installed (apt-get install scamper)');
  if (buildNote) notes.push(buildNote);
  const slim = (lab) => ({
    ...lab,
    targets: lab.targets.map((t) => ({
      ...t,
      tools: Object.fromEntries(
        Object.entries(t.tools).map(([k, runs]) => [
          k,
          runs.map((r) => ({
            ...rounded(r, 3),
            hops: r.hops?.map((h) => (h.addresses.length ? h.addresses.join('|') : '*')),
          })),
        ]),
      ),
      warm: Object.fromEntries(
        Object.entries(t.warm ?? {}).map(([k, runs]) => [
          k,
          { ms: rounded(summarize(runs.map((r) => r.ms)), 3), hops: [...new Set(runs.map((r) => hopText(r.hops)))] },
        ]),
      ),
    })),
  });
  return {
    title:
      'traceroute: time to complete and hop lists in the lab, vantage vs traceroute -I, mtr, scamper (same run, agent namespace)',
    sections,
    notes,
    raw: { ...raw, lab1: slim(raw.lab1), lab2: slim(raw.lab2) },
  };
}

await runStandalone(import.meta.url, run);
