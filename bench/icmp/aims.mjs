// @ts-check
// Issue 4's aims for the ICMP engine, judged against one run of bench/icmp.mjs.
import { fmt } from '../lib/table.mjs';
import { lastWindowEndS, worstFullWindowRate } from './loopback.mjs';
import { per1k } from './peers.mjs';
import { AIMS, DURATION_MS, RATE, TARGET_COUNTS } from './settings.mjs';

/** @import { LoopbackRow } from './peers.mjs' */

/** @typedef {Awaited<ReturnType<typeof import('./loopback.mjs').sustainedRun>>} Sustained */
/** @typedef {Awaited<ReturnType<typeof import('./accuracy.mjs').accuracy>>} Accuracy */

/**
 * What a whole run measured, before the report: the tools found, the loopback rows, the sustained
 * run and (in the lab) the accuracy rows or why they were skipped.
 * @typedef {{
 *   rate: number, durationMs: number, have: { fping: boolean, blackbox: boolean, ping: boolean, tcpdump: boolean },
 *   loopback: LoopbackRow[], sustained: Sustained, labBuildNote?: string | undefined,
 *   accuracySkipped?: string, accuracy?: Accuracy,
 * }} IcmpMeasured
 */

/**
 * One aim: what was measured against what was asked; `met` undefined when it could not be judged.
 * @typedef {{ aim: string, measured: string, target: string, met: boolean | undefined }} Aim
 */

/**
 * Probes sent per second.
 * @param {{ sent: number, seconds: number }} r
 */
export const rate = (r) => r.sent / r.seconds;

/**
 * The throughput aims: the offered rate without loss, sustained; CPU per probe against fping's.
 * @param {IcmpMeasured} raw
 * @returns {Aim[]}
 */
function throughputAims(raw) {
  /** @type {Aim[]} */
  const out = [];
  const lb = raw.loopback;
  const paced = lb.filter((r) => r.tool === 'vantage' && r.mode.startsWith(`paced ${fmt(RATE, 0)}/s, median`));
  const max = lb.filter((r) => r.tool === 'vantage' && r.mode.startsWith('closed loop'));
  if (!paced.length) return out;
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
    const worst = worstFullWindowRate(st);
    const stalled = st.killed || (st.summary?.maxLoopGapMs ?? 0) > 1000;
    const lostSt = st.summary ? st.summary.sent - st.summary.received : NaN;
    out.push({
      aim: `  ... sustained for ${fmt(st.durationMs / 1000, 0)} s (${fmt(st.targets, 0)} targets)`,
      measured:
        st.killed || !st.summary
          ? `last window reported ended at ${fmt(lastWindowEndS(st.windows), 0)} s; ` +
            `then no progress for ${fmt(st.silentForS, 0)} s (killed)`
          : `${fmt(worst, 0)}/s worst full window, ${fmt(lostSt, 0)} lost, ${fmt(st.summary.missed, 0)} skipped, ` +
            `longest stall ${fmt(st.summary.maxLoopGapMs, 0)} ms`,
      target: `>= ${fmt(AIMS.rate * 0.99, 0)}/s every window, 0 lost`,
      met: !stalled && worst >= AIMS.rate * 0.99 && lostSt === 0 && st.summary?.missed === 0,
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
  /** @param {LoopbackRow} r fping's row for the same number of targets, if it ran */
  const fpingOf = (r) => fp.find((f) => f.targets === r.targets);
  if (fp.length)
    out.push({
      aim: 'CPU per probe below fping (same N, same offered rate)',
      measured: paced
        .map((r) => `${fmt(per1k(r), 4)} vs ${fmt(per1k(fpingOf(r) ?? { cpuS: 0, sent: 0 }), 4)}`)
        .join(', '),
      target: 'vantage < fping',
      met: paced.every((r) => per1k(r) < per1k(fpingOf(r) ?? { cpuS: Infinity, sent: 1 })),
    });
  return out;
}

/**
 * The CPU aim against blackbox_exporter at its own rate.
 * @param {IcmpMeasured} raw
 * @returns {Aim[]}
 */
function blackboxAims(raw) {
  const bb = raw.loopback.find((r) => r.tool === 'blackbox_exporter' && r.targets === TARGET_COUNTS[0]);
  const same = raw.loopback.find((r) => r.tool === 'vantage' && r.mode.includes('blackbox_exporter'));
  if (!bb || !same) return [];
  const ratio = per1k(bb) / per1k(same);
  return [
    {
      aim: 'less CPU per probe than blackbox_exporter at its rate',
      measured:
        `${fmt(ratio, 1)}x (${fmt(per1k(same), 4)} vs ${fmt(per1k(bb), 4)} CPU s / 1k ` + `at ${fmt(rate(bb), 0)}/s)`,
      target: `>= ${AIMS.vsBlackbox}x`,
      met: ratio >= AIMS.vsBlackbox,
    },
  ];
}

/**
 * The RTT error aims, judged on the hardest condition (in flight + loop busy).
 * @param {IcmpMeasured} raw
 * @returns {Aim[]}
 */
function accuracyAims(raw) {
  const acc = raw.accuracy?.rows ?? [];
  const both = acc.find((r) => r.tool === 'vantage' && (r.load?.inflight ?? 0) > 0 && r.load?.busy);
  if (!both) return [];
  const worst = acc.filter((r) => r.tool === 'vantage' && r.captured.matched);
  const p = acc.find((r) => r.tool === 'ping');
  const ping = p ? `${fmt(p.errConfiguredUs.p50, 1)} / ${fmt(p.errConfiguredAbsUs.p99, 1)}` : '-';
  return [
    {
      aim: `RTT error vs capture, median (${both.label})`,
      measured:
        `${fmt(both.errCaptureUs.p50, 1)} us ` +
        `(all 4 conditions: ${worst.map((r) => fmt(r.errCaptureUs.p50, 1)).join(' / ')})`,
      target: `<= ${AIMS.errMedianUs} us`,
      met: both.captured.matched ? Math.abs(both.errCaptureUs.p50) <= AIMS.errMedianUs : undefined,
    },
    {
      aim: `RTT error vs capture, p99 |err| (${both.label})`,
      measured:
        `${fmt(both.errCaptureAbsUs.p99, 1)} us ` +
        `(all 4: ${worst.map((r) => fmt(r.errCaptureAbsUs.p99, 1)).join(' / ')})`,
      target: `<= ${fmt(AIMS.errP99Us, 0)} us`,
      met: both.captured.matched ? both.errCaptureAbsUs.p99 <= AIMS.errP99Us : undefined,
    },
    {
      aim: 'RTT error vs configured delay + path, median / p99 |err| (same run)',
      measured: `${fmt(both.errConfiguredUs.p50, 1)} / ${fmt(both.errConfiguredAbsUs.p99, 1)} us (ping: ${ping} us)`,
      target: `<= ${AIMS.errMedianUs} / ${fmt(AIMS.errP99Us, 0)} us`,
      met: Math.abs(both.errConfiguredUs.p50) <= AIMS.errMedianUs && both.errConfiguredAbsUs.p99 <= AIMS.errP99Us,
    },
  ];
}

/**
 * Each aim of the issue against this run's numbers.
 * @param {IcmpMeasured} raw
 */
export function aims(raw) {
  return [...throughputAims(raw), ...blackboxAims(raw), ...accuracyAims(raw)];
}
