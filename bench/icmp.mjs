// @ts-check
// ICMP engine: throughput, CPU and memory on loopback, and RTT accuracy against ground truth,
// side by side in the same run with fping, prometheus-blackbox-exporter's icmp module and iputils
// ping (issue 4, "Benchmark"):
//   a) loopback throughput (icmp/loopback.mjs, icmp/peers.mjs): N = 1,000 / 5,000 / 10,000 distinct
//      127.x.y.z targets probed for DURATION_MS each way: Vantage's IcmpEngine in a process of its
//      own (bench/_icmp-probe.mjs) paced at RATE probes/s and in a closed loop (as fast as it goes);
//      fping at the same offered rate (-i 0.1, -p per target, -C), under /usr/bin/time;
//      blackbox_exporter driven by BB_CONCURRENCY concurrent /probe requests, BB_PROBES in all, its
//      CPU from /proc/<pid>/stat; and Vantage paced at blackbox_exporter's rate, for CPU per probe
//      at the same rate.
//   a2) sustained: RATE probes/s for 40 s in 5 s windows (the engine remembers finished probe keys
//      for 30 s: a 5 s run never sees what happens when they start to expire).
//   b) RTT accuracy in the network lab (icmp/accuracy.mjs, icmp/pcap.mjs;
//      Lab.up({ echoDelayMs: 20 })): from inside the agent namespace, ACC_COUNT probes to the
//      delayed echo responder interleaved with as many to a kernel-answered host at the same depth
//      (the path RTT), while tcpdump on the agent's link records every request and reply with
//      kernel timestamps: the capture is the ground truth (error = reported RTT - RTT on the wire);
//      "error vs configured" is RTT - delay - path RTT (that one also contains the user-space
//      responder's own lateness). Vantage idle, with 1,000 targets in flight, with the event loop
//      20 % busy rendering a 20k-series registry, and both; iputils ping (kernel timestamps: the
//      reference) and blackbox_exporter in the same namespace.
// The numbers are in icmp/settings.mjs, the tables in icmp/report.mjs, the aims in icmp/aims.mjs.
// Traffic: 127.0.0.0/8 (a) and the lab's 198.18.0.0/15 and 2001:db8::/32 (b) only. Needs root
// (raw sockets, namespaces). Every process is bounded in time and killed at exit; the lab is
// removed in finally and on signals.
import { accuracy } from './icmp/accuracy.mjs';
import { loopbackThroughput, sustainedRun } from './icmp/loopback.mjs';
import { report } from './icmp/report.mjs';
import { RATE, TIME } from './icmp/settings.mjs';
import { BLACKBOX } from './lib/blackbox.mjs';
import { loadLab, withLabCleanup } from './lib/lab.mjs';
import { installed, makeTempDir, removeTempDir } from './lib/proc.mjs';
import { runStandalone } from './lib/standalone.mjs';

/** @import { BenchResult } from './lib/table.mjs' */
/** @import { IcmpRaw } from './icmp/headline.mjs' */

export { headline } from './icmp/headline.mjs';

/** @returns {Promise<BenchResult<IcmpRaw | { skipped: string }>>} */
export async function run() {
  const t0 = performance.now();
  if (process.getuid?.() !== 0) return skippedResult('raw ICMP sockets, fping -f and the lab need root');
  const have = {
    fping: (await installed('fping')) && (await installed(TIME)),
    blackbox: await installed(BLACKBOX),
    ping: await installed('ping'),
    tcpdump: await installed('tcpdump'),
    unshare: await installed('unshare'),
  };
  const dir = makeTempDir('vantage-bench-icmp-');
  try {
    const loopback = await loopbackThroughput(dir, have);
    const sustained = await sustainedRun();
    const { Lab, skipped, buildNote } = await loadLab();
    let accuracySkipped;
    let measured;
    if (skipped) accuracySkipped = skipped;
    else if (!have.tcpdump) accuracySkipped = 'tcpdump not installed (the capture is the ground truth)';
    else measured = await withLabCleanup(() => accuracy(Lab, dir, have));
    const durationMs = Math.round(performance.now() - t0);
    return report({
      rate: RATE,
      durationMs,
      have,
      loopback,
      sustained,
      labBuildNote: buildNote,
      ...(accuracySkipped ? { accuracySkipped } : { accuracy: measured }),
    });
  } finally {
    removeTempDir(dir);
  }
}

/** @param {string} reason */
function skippedResult(reason) {
  return {
    title: 'icmp: ICMP engine throughput and RTT accuracy',
    sections: [],
    notes: [`skipped: ${reason}`],
    raw: { skipped: reason },
  };
}

await runStandalone(import.meta.url, run);
