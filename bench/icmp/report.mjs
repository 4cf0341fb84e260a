// @ts-check
// The tables of bench/icmp.mjs: a) loopback throughput, a2) sustained windows, b) RTT accuracy,
// the aims, and the raw numbers for bench/results/latest.json.
import { rounded } from '../lib/stats.mjs';
import { fmt } from '../lib/table.mjs';
import { aims, rate } from './aims.mjs';
import { worstFullWindowRate } from './loopback.mjs';
import { per1k } from './peers.mjs';
import {
  ACC_COUNT,
  ACC_INTERVAL_MS,
  DURATION_MS,
  INFLIGHT_TARGETS,
  LOOPBACK_LOAD,
  PEER_ROUNDS,
  RATE,
  WARMUP_MS,
} from './settings.mjs';

/** @import { Section } from '../lib/table.mjs' */
/** @import { LoopbackRow } from './peers.mjs' */
/** @import { IcmpMeasured, Sustained, Accuracy } from './aims.mjs' */

/** @param {string} text */
const withoutReference = (text) => text.replace(/ \(reference\)$/, '');

/**
 * Which run a loopback row is, for the notes.
 * @param {LoopbackRow} r
 */
const runOf = (r) => `${fmt(r.targets, 0)} targets, ${r.mode}`;

/**
 * @param {IcmpMeasured} raw
 * @returns {Section & { notes: string[] }}
 */
function loopbackSection(raw) {
  const lb = raw.loopback;
  const notes = [
    'probes/s = probes sent / send window (fping and blackbox_exporter: / their whole run); ' +
      'loss = probes without an echo reply',
    'vantage: CPU = process.cpuUsage() of its process over the run (engine + the pacing loop), after ' +
      `${fmt(WARMUP_MS / 1000, 0)} s at the same rate with the same pacing loop (the compiled engine a running ` +
      'agent has: V8 compiles the hot paths over the first seconds, at 1,500/s over the first 10-12; ' +
      "'warm-up CPU' is that warm-up's own cost), RSS = peak sampled every 100 ms (Node's own ~45 MiB included)",
    "fping: /usr/bin/time's %U + %S and %M (max RSS), RTTs from -C (us resolution below 1 ms); " +
      'blackbox_exporter: utime + stime from /proc/<pid>/stat over the run, VmHWM, ' +
      'RTT = probe_icmp_duration_seconds{phase="rtt"}',
    ...(raw.have.fping ? [] : ['fping: not installed (apt-get install fping time)']),
    ...(raw.have.blackbox ? [] : ['blackbox_exporter: not installed (apt-get install prometheus-blackbox-exporter)']),
  ];
  const rounds = lb.filter((r) => r.roundsPer1k);
  if (rounds.length > 0)
    notes.push(
      `vantage paced and fping ran ${fmt(PEER_ROUNDS, 0)} times each, interleaved; a row is the median run. ` +
        `CPU s / 1k of every run: ${rounds
          .map((r) => `${r.tool} ${fmt(r.targets, 0)} ${(r.roundsPer1k ?? []).map((v) => fmt(v, 4)).join(' / ')}`)
          .join('; ')}`,
    );
  const neg = lb.filter((r) => (r.nonPositiveRtts ?? 0) > 0);
  if (neg.length > 0) {
    const each = neg.map((r) => `${fmt(r.nonPositiveRtts, 0)} of ${fmt(r.received, 0)} (${runOf(r)})`);
    notes.push(`vantage reported RTTs <= 0 (impossible): ${each.join('; ')}`);
  }
  const unmatched = lb.filter((r) => (r.unmatched ?? 0) > 0);
  if (unmatched.length > 0) {
    notes.push(
      "vantage's engine counted replies it could not match to a probe in flight (on loopback: replies whose " +
        'kernel stamp, moved onto the monotonic clock, fell before the send stamp; they are dropped and the probe ' +
        `times out): ${unmatched.map((r) => `${fmt(r.unmatched, 0)} (${runOf(r)})`).join('; ')}`,
    );
  }
  return {
    heading:
      `a) loopback: distinct 127.x.y.z targets, ${fmt(DURATION_MS / 1000, 0)} s per run, ` +
      `each tool in a process of its own (${fmt(RATE, 0)}/s offered where paced)`,
    headers: [
      'targets',
      'tool',
      'mode',
      'sent',
      'probes/s',
      'loss %',
      'CPU s',
      'CPU s / 1k probes',
      'warm-up CPU s / 1k',
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
      r.warmupCpuPer1k === undefined ? '-' : fmt(r.warmupCpuPer1k, 4),
      fmt(r.rssMiB, 0),
      fmt(r.rttUs.p50, 1),
      fmt(r.rttUs.p99, 1),
    ]),
    notes,
  };
}

/**
 * @param {Sustained} st
 * @returns {Section}
 */
function sustainedSection(st) {
  const killedRow = [
    `killed at ${fmt(st.wallS, 1)} s`,
    fmt(st.silentForS, 1),
    '-',
    '-',
    '-',
    `> ${fmt(st.silentForS * 1000, 0)}`,
    '-',
  ];
  return {
    heading:
      `a2) sustained: ${fmt(st.rate, 0)} probes/s offered to ${fmt(st.targets, 0)} loopback targets for ` +
      `${fmt(st.durationMs / 1000, 0)} s (past the engine's 30 s memory of finished probe keys), ` +
      `${fmt(st.windowMs / 1000, 0)} s windows`,
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
      ...(st.killed ? [killedRow] : []),
    ],
    notes: [
      'paced by a timer (1 ms, or 10 probes apart at low rates) that never sends more than 100 ms worth at once: ' +
        'a stalled loop skips probes instead of bursting them',
      st.summary
        ? `whole run: ${fmt(st.summary.sent, 0)} sent, ${fmt(st.summary.received, 0)} answered, ` +
          `${fmt(st.summary.missed, 0)} skipped while the loop was stalled, ` +
          `longest stall ${fmt(st.summary.maxLoopGapMs, 0)} ms`
        : `no summary: the helper made no progress for ${fmt(st.silentForS, 1)} s and was killed ` +
          `${fmt(st.killAfterStallMs / 1000, 0)} s after its run should have ended`,
      `worst full window: ${fmt(worstFullWindowRate(st), 0)} sent/s`,
    ],
  };
}

/**
 * @param {Accuracy} accuracy
 * @returns {Section}
 */
function accuracySection({ rows, truth }) {
  return {
    heading:
      `b) RTT accuracy: ${ACC_COUNT} echoes to the delayed responder ${truth.echo} (${truth.delayMs} ms) + ` +
      `${ACC_COUNT} to ${truth.path} (kernel echo, path RTT), interleaved every ${ACC_INTERVAL_MS / 2} ms, ` +
      'from the agent namespace; error in us',
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
      `ground truth: tcpdump on ${truth.iface} (kernel stamps, ns) in the agent namespace; ` +
        'err vs capture = reported RTT - (reply stamp - request stamp), probe by probe',
      "err vs configured = reported RTT - configured delay - the same tool's median path RTT; " +
        "it also holds the user-space responder's own lateness (below), common to every tool",
      'responder lateness on the wire (capture RTT - delay - capture path p50), median / p99 us: ' +
        rows
          .map(
            (r) => `${withoutReference(r.label)} ${fmt(r.responderLateUs.p50, 0)} / ${fmt(r.responderLateUs.p99, 0)}`,
          )
          .join('; '),
      `in flight: ${fmt(INFLIGHT_TARGETS, 0)} blackholed lab addresses (the /24, then the v6 /64) each with a ` +
        `probe pending at all times (1 s timeout), plus ${fmt(LOOPBACK_LOAD.targets, 0)} loopback targets ` +
        `answering ${fmt(LOOPBACK_LOAD.rate, 0)} probes/s, same process and sockets`,
      ...rows.flatMap((r) => {
        const busy = r.load?.busy;
        if (!busy) return [];
        return [
          `${r.label}: loop busy ${fmt(busy.busyFraction * 100, 1)} % (${busy.renders} renders of 20,000 series, ` +
            `longest ${fmt(busy.longestRenderMs, 1)} ms)`,
        ];
      }),
      ...rows.flatMap((r) =>
        r.summaryAvgUs
          ? [
              'iputils ping prints 1 decimal at 10-100 ms, so its per-probe echo errors are quantised to 100 us; ' +
                'from its summary avg (3 decimals) its mean echo error vs capture is ' +
                `${fmt(r.summaryAvgUs.echo - r.wireEchoMeanUs, 1)} us`,
            ]
          : [],
      ),
      'blackbox_exporter: one /probe at a time (keep-alive HTTP from a helper in the namespace), ' +
        'RTT = probe_icmp_duration_seconds{phase="rtt"}',
      ...rows
        .filter((r) => r.captured.dropped > 0 || !r.captured.matched)
        .map(
          (r) =>
            `${r.label}: capture ${r.captured.matched ? '' : 'did not match the probes one to one; '}` +
            `${r.captured.dropped} packets dropped by the kernel`,
        ),
    ],
  };
}

/**
 * The printed result and the raw numbers of a whole run.
 * @param {IcmpMeasured} raw
 */
export function report(raw) {
  const verdicts = aims(raw);
  /** @type {Section[]} */
  const sections = [loopbackSection(raw)];
  if (raw.sustained) sections.push(sustainedSection(raw.sustained));
  if (raw.accuracy) sections.push(accuracySection(raw.accuracy));
  else sections.push({ heading: `b) RTT accuracy: skipped (${raw.accuracySkipped})` });
  sections.push({
    heading: 'aims (issue 4)',
    headers: ['aim', 'measured', 'target', 'met'],
    rows: verdicts.map((v) => [v.aim, v.measured, v.target, v.met === undefined ? '-' : v.met ? 'yes' : 'NO']),
  });
  const notes = [`whole icmp benchmark took ${fmt(raw.durationMs / 1000, 1)} s`];
  if (raw.labBuildNote) notes.push(raw.labBuildNote);
  return {
    title:
      'icmp: ICMP engine throughput, CPU and memory on loopback; RTT accuracy against a packet capture ' +
      '(peers in the same run)',
    sections,
    notes,
    raw: {
      ...raw,
      aims: verdicts,
      loopback: raw.loopback.map((r) => ({
        ...rounded({ ...r, rttUs: undefined, outcomes: undefined }),
        rttUs: rounded(r.rttUs),
        outcomes: r.outcomes,
        probesPerS: Math.round(rate(r)),
        cpuSPer1k: Math.round(per1k(r) * 1e5) / 1e5,
      })),
      accuracy: raw.accuracy && { ...raw.accuracy, rows: raw.accuracy.rows.map(roundSummaries) },
    },
  };
}

/**
 * A row with every summary in it rounded to 2 decimals (the other fields as they are).
 * @template {object} T
 * @param {T} row
 * @returns {T}
 */
function roundSummaries(row) {
  // Object.fromEntries loses the key types; only the numbers inside summaries change.
  return /** @type {T} */ (
    Object.fromEntries(
      Object.entries(row).map(([k, v]) => [k, v && typeof v === 'object' && 'p50' in v ? rounded(v, 2) : v]),
    )
  );
}
