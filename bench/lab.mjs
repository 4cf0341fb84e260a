// @ts-check
// The network lab (test/lab, compiled by `npm run build:lab` to tsconfig.lab.json's outDir): how
// long it takes to build and remove, and how closely its injected faults match the ground truth it
// reports, measured with the real tools from inside the agent namespace:
//   a) Lab.up() / lab.down() wall time, CYCLES cycles (issue: full up + down under 10 s)
//   b) the delayed ICMP responder: iputils ping RTT vs echoDelayMs (1, 20, 100 ms; v4 and v6),
//      next to a kernel-answered host at the same depth (path RTT without the responder)
//   c) the slow DNS name: dig's Query time vs truth.dns.slowDelayMs
//   d) HTTPS first byte: curl starttransfer - appconnect vs /ttfb/150, HTTP/2 and HTTP/1.1
//   e) loss: ping -c 1000 to the lossy address vs truth.lossy.lossRate
// Needs root (namespaces, nftables). Every command is bounded; every lab is torn down in finally
// and on SIGINT/SIGTERM/SIGHUP. Traffic stays inside the lab's namespaces (198.18.0.0/15,
// 2001:db8::/32). The measurements are in lab/measure.mjs, the tables in lab/report.mjs.
import { loadavg } from 'node:os';
import { CYCLES, dnsDelay, echoAccuracy, ECHO_DELAYS_MS, httpsTtfb, loss, upDownCycles } from './lab/measure.mjs';
import { report } from './lab/report.mjs';
import { loadLab, withLab, withLabCleanup } from './lib/lab.mjs';
import { installExitCleanup, missingTool } from './lib/proc.mjs';
import { runStandalone } from './lib/standalone.mjs';
import { fmt } from './lib/table.mjs';

/** @import { Cell } from './lib/table.mjs' */
/** @import { Lab } from './lib/lab.mjs' */
/** @import { LabMeasured } from './lab/report.mjs' */

export async function run() {
  installExitCleanup();
  const t0 = performance.now();
  const { Lab, skipped: why, buildNote } = await loadLab();
  if (why) return skipped(why, buildNote);
  const missing = { ping: await missingTool('ping'), dig: await missingTool('dig'), curl: await missingTool('curl') };

  // Every number here is sensitive to other work on the machine (user-space responders, timers).
  const loadavg1mAtStart = Math.round((loadavg()[0] ?? NaN) * 100) / 100;
  /** @type {Pick<LabMeasured, 'dns' | 'https' | 'loss'>} */
  const extra = {};
  /**
   * The measurements that need one lab of the default kind, with the tools installed.
   * @param {Lab} lab
   */
  const oneLab = async (lab) => {
    if (!missing.dig) extra.dns = await dnsDelay(lab);
    if (!missing.curl) extra.https = await httpsTtfb(lab);
    if (!missing.ping) extra.loss = await loss(lab);
  };
  const { upDown, echo } = await withLabCleanup(async () => {
    const upDown = await upDownCycles(Lab);
    /** @type {LabMeasured['echo']} */
    const echo = [];
    if (!missing.ping) {
      // The default (20 ms) lab also carries the DNS, HTTPS and loss measurements.
      for (const delayMs of ECHO_DELAYS_MS) {
        await withLab(Lab, { echoDelayMs: delayMs }, async (lab) => {
          echo.push(...(await echoAccuracy(lab, delayMs, delayMs === 20)));
          if (delayMs === 20) await oneLab(lab);
        });
      }
    } else {
      await withLab(Lab, {}, oneLab);
    }
    return { upDown, echo };
  });
  const durationMs = Math.round(performance.now() - t0);
  return report({ cycles: CYCLES, loadavg1mAtStart, upDown, echo, ...extra, durationMs }, missing, buildNote);
}

/**
 * @param {string} reason
 * @param {string | undefined} buildNote
 */
function skipped(reason, buildNote) {
  return {
    title: 'lab: network lab build time and ground-truth accuracy',
    sections: [],
    notes: [`skipped: ${reason}`, ...(buildNote ? [buildNote] : [])],
    raw: { skipped: reason },
  };
}

/**
 * bench/lab.mjs's lines in the suite's summary (bench/run.mjs): up + down time, the echo, DNS and
 * HTTPS delays and the loss against what the lab was told to inject.
 * @param {NonNullable<Awaited<ReturnType<typeof run>>['raw']>} lb
 * @returns {Cell[][]}
 */
export function headline(lb) {
  if ('skipped' in lb) return [[`network lab: skipped (${lb.skipped})`, '-', '-', '-']];
  /** @type {Cell[][]} */
  const rows = [];
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
  return rows;
}

await runStandalone(import.meta.url, run);
