// @ts-check
// Issue 5's aims for traceroute, judged against one run of bench/traceroute.mjs.
import { median } from '../lib/stats.mjs';
import { fmt } from '../lib/table.mjs';
import { compareHops } from './hops.mjs';
import { REFERENCE, VANTAGE_CLI, VANTAGE_TIMEOUT_MS } from './runs.mjs';

/** @import { TargetResults } from './runs.mjs' */

/**
 * One lab's results: its spec and truth (as the lab reported them) and every target's runs.
 * @typedef {{
 *   spec: { routers: number, silentHop: number },
 *   truth: {
 *     hops: string[], silentHop: number, ecmp?: { hop: number }, echoDelayMs: number,
 *     slowHop?: { hop: number, delayMs: number },
 *   },
 *   targets: TargetResults[],
 * }} LabRuns
 */

/**
 * The labs' results: lab 1 (default spec) with its ECMP hop, lab 2 (29 routers, no silent hop),
 * lab 3 (lab 1 and a slow router); the warm check's path memory per traced IP.
 * @typedef {{
 *   runs: number, warmRuns: number, tools: Record<string, boolean>, lab1: LabRuns, lab2: LabRuns, lab3: LabRuns,
 *   pathMemory: { hops: number, bytesPerTarget: number, targets: number }[], durationMs: number,
 * }} TracerouteMeasured
 */

/** Issue 20: a silent hop may cost vantage's warm trace at most this much more than traceroute -I's wall. */
const SILENT_HOP_SLACK_MS = 5;

/** Timer lateness allowed on top of a timeout (libuv timers are ms-grained and run late). */
export const TIMER_SLACK_MS = 10;

/**
 * Round trip of the destination seen by the warm runs (ms): the slowest answer at its hop.
 * @param {TargetResults} target
 */
export function destinationRttMs(target) {
  const rtts = [];
  for (const r of target.warm?.[3] ?? []) {
    const dest = r.hops.find((h) => h.addresses.includes(target.target));
    if (dest?.maxRttMs) rtts.push(dest.maxRttMs);
  }
  return median(rtts);
}

/**
 * The labelled target of a lab; throws when the run has none (the labels are this benchmark's own).
 * @param {readonly TargetResults[]} targets
 * @param {(label: string) => boolean} pick
 */
function targetOf(targets, pick) {
  const t = targets.find((x) => pick(x.label));
  if (!t) throw new Error(`traceroute: no such target in ${targets.map((x) => x.label).join(', ')}`);
  return t;
}

/**
 * The warm runs' durations (ms) with `probesPerHop` probes per hop.
 * @param {TargetResults} t
 */
const warmMs = (t, probesPerHop = 3) => (t.warm[probesPerHop] ?? []).map((r) => r.ms);

/**
 * Each aim of the issue against this run's numbers.
 * @param {TracerouteMeasured} raw
 */
export function aims(raw) {
  const out = [];
  const lab1 = raw.lab1.targets;
  const lab2 = targetOf(raw.lab2.targets, () => true);
  const rtt2 = destinationRttMs(lab2);
  const warm2 = warmMs(lab2);
  const warm2one = warmMs(lab2, 1);
  const cli2 = (lab2.tools[VANTAGE_CLI] ?? []).map((r) => r.traceMs);
  out.push({
    aim: `30-hop trace (${fmt(rtt2, 1)} ms round trip) in one round trip + 10 ms, default 3 probes/hop`,
    measured: `${fmt(median(warm2), 1)} ms warm, ${fmt(median(cli2), 1)} ms in record (CLI)`,
    target: `<= ${fmt(rtt2 + 10, 1)} ms`,
    met: median(warm2) <= rtt2 + 10,
  });
  if (warm2one.length)
    out.push({
      aim: '  same, 1 probe/hop (every TTL sent once, at once)',
      measured: `${fmt(median(warm2one), 1)} ms warm`,
      target: `<= ${fmt(rtt2 + 10, 1)} ms`,
      met: median(warm2one) <= rtt2 + 10,
    });
  const echo1 = targetOf(lab1, (l) => l.startsWith('echo host'));
  const rtt1 = destinationRttMs(echo1);
  const cost = median(warmMs(echo1)) - median(warm2);
  out.push({
    aim: `silent hop costs <= 10 round trips (echo host, warm, vs the same trace without a silent hop)`,
    measured: `${fmt(cost, 1)} ms = ${fmt(cost / rtt1, 1)} round trips`,
    target: `<= ${fmt(10 * rtt1, 0)} ms`,
    met: cost <= 10 * rtt1,
  });
  const bh = targetOf(lab1, (l) => l === 'blackholed LAN');
  const bhWarm = median(warmMs(bh));
  const bhCli = median((bh.tools[VANTAGE_CLI] ?? []).map((r) => r.traceMs));
  // Time from the last answer (reply or ICMP error) to the end of the trace, per warm run.
  const afterLast = median((bh.warm[3] ?? []).map((r) => r.ms - r.lastAnswerMs));
  const lastAnswer = median((bh.warm[3] ?? []).map((r) => r.lastAnswerMs));
  out.push({
    aim: 'blackholed destination ends within one probe timeout of the last answer',
    measured:
      `ended ${fmt(afterLast, 1)} ms after the last answer (at ${fmt(lastAnswer, 1)} ms); ` +
      `${fmt(bhWarm, 0)} ms warm, ${fmt(bhCli, 0)} ms in record (CLI)`,
    target: `<= ${fmt(VANTAGE_TIMEOUT_MS, 0)} ms (+ ${TIMER_SLACK_MS} ms timer slack)`,
    met: afterLast <= VANTAGE_TIMEOUT_MS + TIMER_SLACK_MS,
  });
  const same = [];
  for (const t of [...lab1, lab2]) {
    const ref = t.tools[REFERENCE]?.find((r) => r.hops);
    const cli = t.tools[VANTAGE_CLI] ?? [];
    if (!ref?.hops) continue;
    const refHops = ref.hops;
    const verdicts = [...new Set(cli.flatMap((r) => (r.hops ? [compareHops(r.hops, refHops)] : [])))];
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
  out.push(...silentHopAims(raw), ...slowHopAims(raw));
  const ecmp = targetOf(lab1, (l) => l === 'ECMP diamond');
  const hop = raw.lab1.truth.ecmp?.hop;
  /** @param {{ hops?: { ttl: number, addresses: string[] }[] }[]} runs */
  const branches = (runs) =>
    runs.flatMap((r) => (r.hops ? [r.hops.find((h) => h.ttl === hop)?.addresses.length ?? 0] : []));
  const ourBranches = branches([...(ecmp.tools[VANTAGE_CLI] ?? []), ...(ecmp.warm[3] ?? [])]);
  const theirs = branches(ecmp.tools[REFERENCE] ?? []);
  out.push({
    aim: `ECMP: one branch at hop ${hop} in every vantage trace`,
    measured:
      `vantage ${ourBranches.filter((n) => n === 1).length}/${ourBranches.length} traces with one branch; ` +
      `${REFERENCE} ${theirs.filter((n) => n > 1).length}/${theirs.length} runs with both`,
    target: 'all one branch',
    met: ourBranches.length > 0 && ourBranches.every((n) => n === 1),
  });
  return out;
}

/**
 * Issue 20: with a silent hop, vantage's warm trace within traceroute -I's wall + 5 ms, on the
 * 0.1 ms path (the host) and the 20 ms path (the echo host).
 * @param {TracerouteMeasured} raw
 */
function silentHopAims(raw) {
  return [
    targetOf(raw.lab1.targets, (l) => l.startsWith('host behind silent hop')),
    targetOf(raw.lab1.targets, (l) => l.startsWith('echo host')),
  ].map((t) => {
    const warm = t.warm[3] ?? [];
    const ours = median(warm.filter((r) => !r.full).map((r) => r.ms));
    const full = median(warm.filter((r) => r.full).map((r) => r.ms));
    const theirs = median((t.tools[REFERENCE] ?? []).map((r) => r.wallMs));
    return {
      aim: `silent hop, ${fmt(destinationRttMs(t), 1)} ms path: warm <= ${REFERENCE} + ${SILENT_HOP_SLACK_MS} ms`,
      measured:
        `${fmt(ours, 1)} ms warm, path remembered (first and every 10th trace: ${fmt(full, 1)} ms) ` +
        `vs ${fmt(theirs, 1)} ms`,
      target: `<= ${fmt(theirs + SILENT_HOP_SLACK_MS, 1)} ms`,
      met: ours <= theirs + SILENT_HOP_SLACK_MS,
    };
  });
}

/**
 * Issue 20: the router whose Time Exceeded leaves late is listed, by vantage (CLI and warm runs)
 * and by traceroute -I (which gives up after 10x the next hop's round trip).
 * @param {TracerouteMeasured} raw
 */
function slowHopAims(raw) {
  const slow = raw.lab3.truth.slowHop;
  if (!slow?.hop) return [];
  const t = targetOf(raw.lab3.targets, () => true);
  const address = raw.lab3.truth.hops[slow.hop - 1];
  /** @param {{ hops?: { ttl: number, addresses: string[] }[] }[]} runs */
  const listed = (runs) => {
    const with_ = runs.filter((r) => r.hops?.find((h) => h.ttl === slow.hop)?.addresses.includes(address ?? ''));
    return `${with_.length}/${runs.length}`;
  };
  const ours = [...(t.tools[VANTAGE_CLI] ?? []), ...(t.warm[3] ?? [])];
  const oursListed = listed(ours);
  const remembered = listed((t.warm[3] ?? []).filter((r) => !r.full));
  return [
    {
      aim: `slow hop ${slow.hop} (Time Exceeded ${slow.delayMs} ms late) listed`,
      measured:
        `vantage ${oursListed} traces (${remembered} warm with the path remembered); ` +
        `${REFERENCE} ${listed(t.tools[REFERENCE] ?? [])} runs`,
      target: 'vantage every trace',
      met: oursListed === `${ours.length}/${ours.length}`,
    },
  ];
}
