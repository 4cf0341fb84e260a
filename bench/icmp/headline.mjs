// @ts-check
// bench/icmp.mjs's lines in the suite's summary (bench/run.mjs), read from its raw numbers.
import { fmt } from '../lib/table.mjs';
import { worstFullWindowRate } from './loopback.mjs';

/** @import { Cell } from '../lib/table.mjs' */
/** @typedef {NonNullable<ReturnType<typeof import('./report.mjs').report>['raw']>} IcmpRaw */

/**
 * Throughput and CPU against fping and blackbox_exporter, the sustained run, RTT error against
 * iputils ping and blackbox_exporter, and every aim not met.
 * @param {IcmpRaw | { skipped: string }} ic
 * @returns {Cell[][]}
 */
export function headline(ic) {
  if ('skipped' in ic) return [[`icmp: skipped (${ic.skipped})`, '-', '-', '-']];
  /** @type {Cell[][]} */
  const rows = [];
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
    rows.push([
      `icmp: sustained ${fmt(st.durationMs / 1000, 0)} s, worst ${fmt(st.windowMs / 1000, 0)} s window probes/s`,
      st.killed
        ? `stalled (killed after ${fmt(st.silentForS, 0)} s silent)`
        : `${fmt(worstFullWindowRate(st), 0)} (stall ${fmt(st.summary?.maxLoopGapMs, 0)} ms)`,
      `>= ${fmt(st.rate * 0.99, 0)}`,
      'aim (issue)',
    ]);
  }
  const acc = ic.accuracy?.rows ?? [];
  const both = acc.find((x) => x.tool === 'vantage' && (x.load?.inflight ?? 0) > 0 && x.load?.busy);
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
  return rows;
}
