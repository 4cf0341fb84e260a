// @ts-check
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
// The runs are in traceroute/runs.mjs, hop parsing in traceroute/hops.mjs, the tables in
// traceroute/report.mjs and the aims in traceroute/aims.mjs.
import { loadLab, withLab, withLabCleanup } from './lib/lab.mjs';
import { installed } from './lib/proc.mjs';
import { runStandalone } from './lib/standalone.mjs';
import { median } from './lib/stats.mjs';
import { fmt } from './lib/table.mjs';
import { pathMemoryBytes } from './traceroute/path-memory.mjs';
import { report } from './traceroute/report.mjs';
import { REFERENCE, RUNS, traceTarget, VANTAGE_CLI, WARM_RUNS } from './traceroute/runs.mjs';

/** @import { Cell } from './lib/table.mjs' */
/** @import { Lab } from './lib/lab.mjs' */
/** @import { LabRuns } from './traceroute/aims.mjs' */

const LAB2 = { routers: 29, silentHop: 0 };
/** Lab 1 plus a router whose Time Exceeded leaves 30 ms late (issue 20: is it still listed?). */
const LAB3 = { slowHop: 3 };

/**
 * The lab's routers' addresses (IPv4), hop by hop: the truth hop lists are compared with.
 * @param {{ v4: string }[]} hops
 */
const hopAddresses = (hops) => hops.map((h) => h.v4);

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
  const { lab1, lab2, lab3 } = await withLabCleanup(async () => ({
    lab1: await withLab(Lab, {}, (lab) => lab1Targets(lab, tools)),
    lab2: await withLab(Lab, LAB2, (lab) => lab2Targets(lab, tools)),
    lab3: await withLab(Lab, LAB3, (lab) => lab3Targets(lab, tools)),
  }));
  const raw = {
    runs: RUNS,
    warmRuns: WARM_RUNS,
    tools,
    lab1,
    lab2,
    lab3,
    pathMemory: await pathMemoryBytes(),
    durationMs: Math.round(performance.now() - t0),
  };
  return report(raw, buildNote);
}

/**
 * Lab 1 (default spec): the host behind the silent hop, the ECMP diamond, the echo host and the
 * blackholed LAN.
 * @param {Lab} lab
 * @param {Record<string, boolean>} tools
 * @returns {Promise<LabRuns>}
 */
async function lab1Targets(lab, tools) {
  const t = lab.truth;
  const truth = { hops: hopAddresses(t.hops), silentHop: t.silentHop, ecmp: t.ecmp, echoDelayMs: t.echo.delayMs };
  return {
    spec: t.spec,
    truth,
    targets: [
      await traceTarget(lab, `host behind silent hop ${t.silentHop}`, t.hosts.up[0].v4, tools),
      await traceTarget(lab, 'ECMP diamond', t.ecmp.v4, tools),
      await traceTarget(lab, `echo host (${t.echo.delayMs} ms), silent hop ${t.silentHop}`, t.echo.v4, tools, {
        warmProbesPerHop: [3, 1],
      }),
      await traceTarget(lab, 'blackholed LAN', t.blackhole.v4, tools, { concurrentPeers: true, warmProbesPerHop: [3] }),
    ],
  };
}

/**
 * Lab 2 (29 routers, no silent hop): the echo host at hop 30.
 * @param {Lab} lab
 * @param {Record<string, boolean>} tools
 * @returns {Promise<LabRuns>}
 */
async function lab2Targets(lab, tools) {
  const t = lab.truth;
  const label = `echo host (${t.echo.delayMs} ms) at hop ${t.spec.routers + 1}, no silent hop`;
  return {
    spec: t.spec,
    truth: { hops: hopAddresses(t.hops), silentHop: t.silentHop, echoDelayMs: t.echo.delayMs },
    targets: [await traceTarget(lab, label, t.echo.v4, tools, { warmProbesPerHop: [3, 1] })],
  };
}

/**
 * Lab 3 (lab 1 and a slow router): the host behind it and the silent hop, 0.1 ms away.
 * @param {Lab} lab
 * @param {Record<string, boolean>} tools
 * @returns {Promise<LabRuns>}
 */
async function lab3Targets(lab, tools) {
  const t = lab.truth;
  const label = `host behind slow hop ${t.slowHop.hop} (${t.slowHop.delayMs} ms late) and silent hop ${t.silentHop}`;
  return {
    spec: t.spec,
    truth: { hops: hopAddresses(t.hops), silentHop: t.silentHop, slowHop: t.slowHop, echoDelayMs: t.echo.delayMs },
    targets: [await traceTarget(lab, label, t.hosts.up[0].v4, tools)],
  };
}

/**
 * bench/traceroute.mjs's lines in the suite's summary (bench/run.mjs), read from its raw numbers.
 * @param {NonNullable<Awaited<ReturnType<typeof run>>['raw']>} tr
 * @returns {Cell[][]}
 */
export function headline(tr) {
  if ('skipped' in tr) return [[`traceroute: skipped (${tr.skipped})`, '-', '-', '-']];
  /** @type {Cell[][]} */
  const rows = [];
  /**
   * @param {{ tools: Record<string, { wallMs?: number }[]> } | undefined} t
   * @param {string} tool
   */
  const wallOf = (t, tool) => median((t?.tools?.[tool] ?? []).map((x) => x.wallMs));
  const t30 = tr.lab2?.targets?.[0];
  if (t30)
    rows.push([
      `traceroute 30 hops, ~20 ms RTT: ms (warm trace; traceroute wall)`,
      fmt(t30.warm?.[3]?.ms?.p50, 1),
      fmt(wallOf(t30, REFERENCE), 1),
      REFERENCE,
    ]);
  for (const t of tr.lab1?.targets ?? []) {
    const cli = median((t.tools[VANTAGE_CLI] ?? []).map((x) => x.traceMs));
    rows.push([
      `traceroute ${t.label}: ms (in record; peer wall)`,
      fmt(cli, 1),
      fmt(wallOf(t, REFERENCE), 1),
      REFERENCE,
    ]);
  }
  for (const a of tr.aims ?? [])
    rows.push([`traceroute aim: ${a.aim.trim()}`, a.met ? 'met' : 'NOT met', a.target, 'aim (issue 5)']);
  return rows;
}

await runStandalone(import.meta.url, run);
