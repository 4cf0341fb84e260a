// @ts-check
// The tables of bench/traceroute.mjs: one per target (every tool's wall time, trace time, hops and
// how they compare with traceroute -I's), the aims, and the raw numbers for latest.json.
import { rounded, summarize, summarizeFinite } from '../lib/stats.mjs';
import { fmt } from '../lib/table.mjs';
import { aims } from './aims.mjs';
import { compareHops, hopText, lastResponding } from './hops.mjs';
import { REFERENCE, VANTAGE_TIMEOUT_MS } from './runs.mjs';

/** @import { Cell, Section } from '../lib/table.mjs' */
/** @import { TargetResults } from './runs.mjs' */
/** @import { Hop } from './hops.mjs' */
/** @import { LabRuns, TracerouteMeasured } from './aims.mjs' */

/**
 * "p50 (min-max)" of the finite values, or just the p50 when there is one.
 * @param {readonly (number | undefined)[]} values
 */
function range(values) {
  const s = summarizeFinite(values);
  return s.count > 1 ? `${fmt(s.p50, 1)} (${fmt(s.min, 1)}-${fmt(s.max, 1)})` : fmt(s.p50, 1);
}

/**
 * @param {string} lab
 * @param {TargetResults} target
 * @returns {Section}
 */
function targetSection(lab, target) {
  const ref = target.tools[REFERENCE]?.find((r) => r.hops)?.hops;
  /** @type {Cell[][]} */
  const rows = [];
  for (const [tool, runs] of Object.entries(target.tools)) {
    const ok = runs.flatMap((r) => (r.hops ? [{ ...r, hops: r.hops }] : []));
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
          : [...new Set(ok.map((r) => compareHops(r.hops, ref)))].join(' / ')
        : (runs.find((r) => r.error)?.error ?? '-'),
    ]);
  }
  for (const [p, all] of Object.entries(target.warm ?? {}))
    for (const full of [false, true]) rows.push(...warmRow(all, p, full, ref));
  const notes = [];
  for (const [tool, runs] of Object.entries(target.tools)) {
    const lists = [...new Set(runs.flatMap((r) => (r.hops ? [hopText(r.hops)] : [])))];
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

/**
 * The row of a target's warm runs (`p` probes per hop) that waited in full (`full`: the first trace
 * and every 10th) or used the remembered path; none when there are no such runs.
 * @param {TargetResults['warm'][string]} all
 * @param {string} p
 * @param {boolean} full
 * @param {Hop[] | undefined} ref traceroute -I's hops
 * @returns {Cell[][]}
 */
function warmRow(all, p, full, ref) {
  const warm = all.filter((r) => r.full === full);
  const first = warm[0];
  if (!first) return [];
  const incomplete = warm.filter((r) => r.hops.some((h) => h.addresses.length > 0 && h.answered < Number(p))).length;
  const kind = full ? 'full wait (1st, every 10th)' : 'path remembered';
  return [
    [
      `vantage trace(), warm, ${kind}, ${p} probe${p === '1' ? '' : 's'}/hop`,
      warm.length,
      range(warm.map((r) => r.ms)),
      range(warm.map((r) => r.ms)),
      first.reached ? 'yes' : 'no',
      fmt(first.reached ? first.hops.length : first.lastRespondingHop, 0),
      ref
        ? [...new Set(warm.map((r) => compareHops(r.hops, ref)))].join(' / ') +
          (incomplete ? `; ${incomplete}/${warm.length} runs lost probes at answering hops` : '')
        : '-',
    ],
  ];
}

/**
 * A lab's results for latest.json: hop lists as text, warm runs as a summary and their hop lists.
 * @param {LabRuns} lab
 */
function slim(lab) {
  return {
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
          {
            ms: rounded(summarize(runs.filter((r) => !r.full).map((r) => r.ms)), 3),
            fullWaitMs: rounded(summarize(runs.filter((r) => r.full).map((r) => r.ms)), 3),
            hops: [...new Set(runs.map((r) => hopText(r.hops)))],
          },
        ]),
      ),
    })),
  };
}

/**
 * The printed result and the raw numbers of a whole run.
 * @param {TracerouteMeasured} raw
 * @param {string | undefined} buildNote
 */
export function report(raw, buildNote) {
  const sections = [];
  for (const t of raw.lab1.targets)
    sections.push(targetSection(`lab 1 (${raw.lab1.spec.routers} routers, silent hop ${raw.lab1.spec.silentHop})`, t));
  for (const t of raw.lab2.targets)
    sections.push(targetSection(`lab 2 (${raw.lab2.spec.routers} routers, no silent hop)`, t));
  for (const t of raw.lab3.targets)
    sections.push(
      targetSection(
        `lab 3 (lab 1 and slow hop ${raw.lab3.truth.slowHop?.hop}, ${raw.lab3.truth.slowHop?.delayMs} ms)`,
        t,
      ),
    );
  const verdicts = aims(raw);
  sections.push({
    heading: 'aims (issue 5)',
    headers: ['aim', 'measured', 'target', 'met'],
    rows: verdicts.map((v) => [v.aim, v.measured, v.target, v.met ? 'yes' : 'NO']),
    notes: [
      `vantage defaults: probe_timeout ${VANTAGE_TIMEOUT_MS} ms, 3 probes/hop, every TTL in flight at once; ` +
        'a silent probe is given up 5x the round trip of the nearest later hop that answered (3x its own hop), ' +
        'at least 35 ms after its send, instead of the timeout; warm, the path is remembered between traces: ' +
        'a hop silent through a full wait gets 5x the next round trip (5 ms floor), a hop known to answer ' +
        'late 2x its slowest answer + 5 ms; the first trace and every 10th wait in full',
      "traceroute -I defaults: 3 probes/hop, 16 probes in flight (-N), waits max 5 s, 3x the hop's round trip " +
        '(here) / 10x (near): its wait for a silent hop adapts too; mtr -c 1 paces one probe per hop per ' +
        'second-ish and waits for stragglers; scamper traces hop by hop (20 pps, 5 s wait, 2 attempts, gap limit 5)',
      'wall ms = spawn -> exit of `ip netns exec <agent> <tool>` (vantage: includes Node start-up, ~0.3 s); ' +
        "trace ms = the record's phasesMs.trace (a fresh process: cold code); " +
        'warm = trace() run repeatedly on one engine',
      'blackholed LAN: the four peers ran side by side (one run each) as they mostly wait out timeouts',
    ],
  });
  const notes = [
    'path memory of a warm check (live heap per traced IP, 10,000 IPs): ' +
      raw.pathMemory.map((m) => `${m.bytesPerTarget} bytes for ${m.hops} hops`).join(', '),
    `whole traceroute benchmark took ${fmt(raw.durationMs / 1000, 1)} s`,
  ];
  if (!raw.tools.scamper) notes.push('scamper not installed (apt-get install scamper)');
  if (buildNote) notes.push(buildNote);
  return {
    title:
      'traceroute: time to complete and hop lists in the lab, vantage vs traceroute -I, mtr, scamper ' +
      '(same run, agent namespace)',
    sections,
    notes,
    raw: { ...raw, aims: verdicts, lab1: slim(raw.lab1), lab2: slim(raw.lab2), lab3: slim(raw.lab3) },
  };
}
