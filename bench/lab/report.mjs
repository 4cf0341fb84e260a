// @ts-check
// The tables of bench/lab.mjs: a) up/down times, b) the delayed ICMP responder, c) the slow DNS
// name, d) HTTPS first byte, e) loss; and the raw numbers for latest.json.
import { rounded, summarize } from '../lib/stats.mjs';
import { fmt, statCells } from '../lib/table.mjs';
import {
  CURLS,
  CYCLES,
  DIGS,
  ECHO_TOLERANCE_MS,
  LOSS_INTERVAL_S,
  LOSS_PINGS,
  PING_INTERVAL_S,
  PINGS,
  TTFB_MS,
  UP_DOWN_LIMIT_MS,
} from './measure.mjs';

/** @import { Section } from '../lib/table.mjs' */
/** @typedef {typeof import('./measure.mjs')} Measure */

/**
 * What a whole run measured, before the report (dns, https and loss when their tools are installed).
 * @typedef {{
 *   cycles: number, loadavg1mAtStart: number, upDown: Awaited<ReturnType<Measure['upDownCycles']>>,
 *   echo: Awaited<ReturnType<Measure['echoAccuracy']>>, dns?: Awaited<ReturnType<Measure['dnsDelay']>>,
 *   https?: Awaited<ReturnType<Measure['httpsTtfb']>>, loss?: Awaited<ReturnType<Measure['loss']>>,
 *   durationMs: number,
 * }} LabMeasured
 */

/** @typedef {{ ping?: string, dig?: string, curl?: string }} Missing */

/**
 * @param {LabMeasured['upDown']} upDown
 * @returns {Section}
 */
function upDownSection({ upMs, downMs, totalMs, leftovers }) {
  /**
   * @param {string} label
   * @param {number[]} values
   */
  const stat = (label, values) => {
    const s = summarize(values);
    return [label, s.count, ...statCells(s, ['min', 'p50', 'max'], 1)];
  };
  const worstTotal = Math.max(...totalMs);
  return {
    heading: `a) Lab.up() / lab.down() wall time, ${CYCLES} cycles (default spec: 8 routers)`,
    headers: ['phase', 'n', 'min ms', 'median ms', 'max ms'],
    rows: [stat('up()', upMs), stat('down()', downMs), stat('up + down', totalMs)],
    notes: [
      `requirement: full up + down under ${fmt(UP_DOWN_LIMIT_MS / 1000, 0)} s: ` +
        `${worstTotal < UP_DOWN_LIMIT_MS ? 'met' : 'NOT met'} (worst cycle ${fmt(worstTotal, 0)} ms)`,
      `lab namespaces left after the last down(): ${leftovers}; up() includes leftover clean-up, ` +
        'certificates (openssl) and starting the 4 lab services',
    ],
  };
}

/**
 * The worst |avg - delay| and |median - delay| over the echo responder's rows (ms).
 * @param {LabMeasured['echo']} echo
 */
function echoWorst(echo) {
  const echoOnly = echo.filter((r) => r.target === 'echo responder');
  const medians = echoOnly.filter((r) => Number.isFinite(r.median));
  return {
    echoWorstAbsOffsetMs: echoOnly.length ? Math.max(...echoOnly.map((r) => Math.abs(r.avg - r.configuredMs))) : NaN,
    echoWorstAbsMedianOffsetMs: medians.length
      ? Math.max(...medians.map((r) => Math.abs(r.median - r.configuredMs)))
      : NaN,
  };
}

/**
 * @param {LabMeasured['echo']} echo
 * @param {ReturnType<typeof echoWorst>} worst
 * @returns {Section}
 */
function echoSection(echo, worst) {
  const rows = echo.map((r) => {
    const off = r.avg - r.configuredMs;
    const isEcho = r.target === 'echo responder';
    return [
      r.target,
      r.family,
      fmt(r.configuredMs, 0),
      `${r.received}/${r.sent}`,
      fmt(r.min, 3),
      fmt(r.avg, 3),
      fmt(r.max, 3),
      fmt(r.mdev, 3),
      fmt(r.median, 3),
      fmt(off, 3),
      fmt(r.median - r.configuredMs, 3),
      isEcho ? (Math.abs(off) <= ECHO_TOLERANCE_MS && r.received === r.sent ? 'yes' : 'NO') : '-',
    ];
  });
  return {
    heading: `b) delayed ICMP responder: ping -c ${PINGS} -i ${PING_INTERVAL_S} from the agent namespace (ms)`,
    headers: [
      'target',
      'family',
      'delay ms',
      'recv/sent',
      'min ms',
      'avg ms',
      'max ms',
      'mdev ms',
      'median ms',
      'avg - delay',
      'median - delay',
      `avg within ±${ECHO_TOLERANCE_MS} ms`,
    ],
    rows: rows.length ? rows : [['ping not installed', ...Array(11).fill('-')]],
    notes: [
      'one lab per delay (Lab.up({ echoDelayMs })); the echo host (user-space Python responder) and the ' +
        'kernel-answered host sit behind the same 8 routers',
      '"kernel echo (path only)" is truth.hosts.up[0]: the path RTT without the responder, so avg - delay minus ' +
        "that avg is the responder's own overhead",
      "min/avg/max/mdev from ping's summary line; median from its per-reply lines (run without -q for them; " +
        'the probes sent are the same), left out at 100 ms where ping prints whole ms',
      `worst |avg - delay| over the echo rows: ${fmt(worst.echoWorstAbsOffsetMs, 3)} ms ` +
        `(requirement ±${ECHO_TOLERANCE_MS} ms); ` +
        `worst |median - delay|: ${fmt(worst.echoWorstAbsMedianOffsetMs, 3)} ms`,
    ],
  };
}

/**
 * @param {NonNullable<LabMeasured['dns']>} dns
 * @returns {Section}
 */
function dnsSection(dns) {
  const s = summarize(dns.queryMs);
  return {
    heading: `c) slow DNS name: dig @${dns.server} ${dns.name}, ${DIGS} runs`,
    headers: ['configured ms', 'n', 'min ms', 'median ms', 'max ms', 'median - configured ms'],
    rows: [
      [
        fmt(dns.configuredMs, 0),
        s.count,
        fmt(s.min, 0),
        fmt(s.p50, 1),
        fmt(s.max, 0),
        fmt(s.p50 - dns.configuredMs, 1),
      ],
    ],
    notes: ["dig's Query time (whole ms, one dig process per query over UDP)"],
  };
}

/**
 * @param {NonNullable<LabMeasured['https']>} https
 * @returns {Section}
 */
function httpsSection(https) {
  return {
    heading: `d) HTTPS first byte: curl https://web.lab.test/ttfb/${TTFB_MS}, ${CURLS} runs per protocol`,
    headers: ['protocol', 'n', 'min ms', 'median ms', 'max ms', 'median - configured ms', 'appconnect p50 ms'],
    rows: https.map((h) => {
      const s = summarize(h.gapMs);
      return [
        h.proto,
        s.count,
        ...statCells(s, ['min', 'p50', 'max'], 2),
        fmt(s.p50 - h.configuredMs, 2),
        fmt(summarize(h.appconnectMs).p50, 2),
      ];
    }),
    notes: [
      'time_starttransfer - time_appconnect: sending the request, the injected delay, one path RTT (~0.1 ms) ' +
        "and the server's timer lateness",
    ],
  };
}

/**
 * @param {NonNullable<LabMeasured['loss']>} l
 * @returns {Section}
 */
function lossSection(l) {
  return {
    heading: `e) loss: ping -c ${LOSS_PINGS} -i ${LOSS_INTERVAL_S} -q to ${l.target}`,
    headers: [
      'configured %',
      'sent',
      'received',
      'measured %',
      'measured - configured pts',
      '3 sigma pts',
      'within 3 sigma',
    ],
    rows: [
      [
        fmt(l.configured * 100, 1),
        l.sent,
        l.received,
        fmt(l.measured * 100, 1),
        fmt((l.measured - l.configured) * 100, 1),
        fmt(3 * l.sigma * 100, 1),
        Math.abs(l.z) <= 3 ? 'yes' : 'NO',
      ],
    ],
    notes: ['binomial: sigma = sqrt(p (1 - p) / sent); nft numgen random drops on the last router, requests only'],
  };
}

/**
 * The printed result and the raw numbers of a whole run.
 * @param {LabMeasured} measured
 * @param {Missing} missing
 * @param {string | undefined} buildNote
 */
export function report(measured, missing, buildNote) {
  const worst = echoWorst(measured.echo);
  const raw = { ...measured, ...worst };
  const sections = [upDownSection(raw.upDown), echoSection(raw.echo, worst)];
  sections.push(raw.dns ? dnsSection(raw.dns) : { heading: `c) slow DNS name: skipped (${missing.dig})` });
  sections.push(raw.https ? httpsSection(raw.https) : { heading: `d) HTTPS first byte: skipped (${missing.curl})` });
  sections.push(raw.loss ? lossSection(raw.loss) : { heading: `e) loss: skipped (${missing.ping})` });
  const notes = [
    `whole lab benchmark took ${fmt(raw.durationMs / 1000, 1)} s; 1-min load average at its start ` +
      `${fmt(raw.loadavg1mAtStart, 2)} (the lab's services and responders are user-space: other load shows up ` +
      'in every number)',
  ];
  if (buildNote) notes.push(buildNote);
  const { upMs, downMs, totalMs } = raw.upDown;
  return {
    title: 'lab: network lab build time and ground-truth accuracy (real tools in the agent namespace)',
    sections,
    notes,
    raw: {
      ...raw,
      upDown: {
        ...raw.upDown,
        up: rounded(summarize(upMs)),
        down: rounded(summarize(downMs)),
        total: rounded(summarize(totalMs)),
        limitMs: UP_DOWN_LIMIT_MS,
      },
      echo: raw.echo.map((r) =>
        rounded({ ...r, offsetMs: r.avg - r.configuredMs, medianOffsetMs: r.median - r.configuredMs }),
      ),
      dns: raw.dns && { ...raw.dns, summary: rounded(summarize(raw.dns.queryMs)) },
      https: raw.https?.map((h) => ({
        ...h,
        gapMs: h.gapMs.map((v) => Math.round(v * 1000) / 1000),
        summary: rounded(summarize(h.gapMs)),
      })),
      loss: raw.loss && rounded(raw.loss, 6),
      missing: Object.fromEntries(Object.entries(missing).filter(([, v]) => v)),
    },
  };
}
