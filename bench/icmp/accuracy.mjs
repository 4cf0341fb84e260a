// @ts-check
// b) RTT accuracy in the network lab: each tool's RTTs to the delayed echo responder and to a
// kernel-answered host at the same depth, compared probe by probe with a packet capture (the
// ground truth) and with the configured delay.
import { join } from 'node:path';
import { startBlackbox } from '../lib/blackbox.mjs';
import { icmpProbe } from '../lib/helpers.mjs';
import { withLab } from '../lib/lab.mjs';
import { execTracked, stopChild } from '../lib/proc.mjs';
import { summarize } from '../lib/stats.mjs';
import { fmt } from '../lib/table.mjs';
import { startCapture, wireRtts } from './pcap.mjs';
import {
  ACC_COUNT,
  ACC_INTERVAL_MS,
  BLACKBOX_ICMP_CONFIG,
  BUSY_FRACTION,
  ECHO_DELAY_MS,
  INFLIGHT_TARGETS,
  LOOPBACK_LOAD,
} from './settings.mjs';

/** @import { Capture } from './pcap.mjs' */
/** @import { Lab, LabClass } from '../lib/lab.mjs' */

/**
 * A tool's RTTs (us) in send order, null where it got no reply.
 * @typedef {{ echoUs: (number | null)[], pathUs: (number | null)[] }} ToolRtts
 */

/**
 * What a row carries beside the comparison: which tool, and what it reported of its own.
 * @typedef {{
 *   tool: string, load?: Awaited<ReturnType<typeof import('../icmp-probe/accuracy.mjs').accuracy>>['load'],
 *   statuses?: Record<string, number>, engine?: unknown, summaryAvgUs?: { echo: number, path: number },
 * }} RowExtra
 */

/**
 * iputils ping's per-reply times (us) by icmp_seq, null where none came.
 * @param {string} out
 * @param {number} count
 */
function parsePingTimes(out, count) {
  /** @type {(number | null)[]} */
  const times = Array(count).fill(null);
  for (const m of out.matchAll(/icmp_seq=(\d+) .*time=([\d.]+) ms/g))
    if (Number(m[1]) <= count) times[Number(m[1]) - 1] = Number(m[2]) * 1000;
  return times;
}

/**
 * Compares one tool's RTTs (us, in send order) with the capture and with the configured delay.
 * @param {string} label
 * @param {ToolRtts} res
 * @param {Capture} capture
 * @param {Lab['truth']} truth
 * @param {RowExtra} extra
 */
function accuracyRow(label, res, capture, truth, extra) {
  const wireEcho = wireRtts(capture.packets, truth.echo.v4);
  const wirePath = wireRtts(capture.packets, truth.hosts.up[0].v4);
  const replies = res.echoUs.filter((v) => v !== null);
  const pathReplies = res.pathUs.filter((v) => v !== null);
  const pathMedian = summarize(pathReplies).p50;
  const matched = wireEcho.length === res.echoUs.length && wirePath.length === res.pathUs.length;
  /** @type {number[]} */
  const errCapture = [];
  /** @type {number[]} */
  const errCapturePath = [];
  if (matched) {
    res.echoUs.forEach((v, i) => v !== null && wireEcho[i] != null && errCapture.push(v - (wireEcho[i] ?? 0)));
    res.pathUs.forEach((v, i) => v !== null && wirePath[i] != null && errCapturePath.push(v - (wirePath[i] ?? 0)));
  }
  const delayUs = truth.echo.delayMs * 1000;
  const errConfigured = replies.map((v) => v - delayUs - pathMedian);
  const wireReplies = wireEcho.filter((v) => v !== null);
  // What the responder itself adds beyond the configured delay, on the wire (not a tool's error).
  const wirePathMedian = summarize(wirePath.filter((x) => x !== null)).p50;
  const responderLate = wireReplies.map((v) => v - delayUs - wirePathMedian);
  return {
    label,
    sent: res.echoUs.length,
    received: replies.length,
    rttUs: summarize(replies),
    pathUs: summarize(pathReplies),
    captured: { requests: wireEcho.length + wirePath.length, dropped: capture.dropped, matched },
    errCaptureUs: summarize(errCapture),
    errCaptureAbsUs: summarize(errCapture.map(Math.abs)),
    errCapturePathUs: summarize(errCapturePath),
    errConfiguredUs: summarize(errConfigured),
    errConfiguredAbsUs: summarize(errConfigured.map(Math.abs)),
    responderLateUs: summarize(responderLate),
    wireEchoMeanUs: summarize(wireReplies).mean,
    ...extra,
  };
}

/** @typedef {ReturnType<typeof accuracyRow>} AccuracyRow */

/**
 * iputils ping, ACC_COUNT echoes to the responder, then as many to the path host, in `ns`.
 * @param {string} ns
 * @param {Lab['truth']} truth
 */
async function pingRtts(ns, truth) {
  /** @param {string} target */
  const ping = (target) => {
    const argv = ['ping', '-4', '-n', '-c', String(ACC_COUNT), '-i', String(ACC_INTERVAL_MS / 1000), '-W', '1'];
    return execTracked('ip', ['netns', 'exec', ns, ...argv, target], { timeoutMs: 30_000 });
  };
  const [e, p] = [await ping(truth.echo.v4), await ping(truth.hosts.up[0].v4)];
  /** @param {string} out */
  const avg = (out) => Number(/= [\d.]+\/([\d.]+)\//.exec(out)?.[1] ?? NaN) * 1000;
  return {
    echoUs: parsePingTimes(e.stdout, ACC_COUNT),
    pathUs: parsePingTimes(p.stdout, ACC_COUNT),
    echoAvgUs: avg(e.stdout),
    pathAvgUs: avg(p.stdout),
  };
}

/**
 * Every condition and peer in one lab with the echo responder ECHO_DELAY_MS late.
 * @param {LabClass} Lab
 * @param {string} dir a temporary directory for the captures
 * @param {{ ping: boolean, blackbox: boolean }} have
 */
export async function accuracy(Lab, dir, have) {
  return withLab(Lab, { echoDelayMs: ECHO_DELAY_MS }, async (lab) => {
    const { truth } = lab;
    /** @type {string} */
    const ns = truth.namespaces.agent;
    const route = (await lab.exec(ns, ['ip', '-o', 'route', 'get', truth.echo.v4])).stdout;
    const iface = /\bdev (\S+)/.exec(route)?.[1];
    if (!iface) throw new Error(`no route to ${truth.echo.v4} in ${ns}: ${route}`);
    const hosts = [truth.echo.v4, truth.hosts.up[0].v4];
    const probeArgs = {
      echo: truth.echo.v4,
      path: truth.hosts.up[0].v4,
      count: ACC_COUNT,
      intervalMs: ACC_INTERVAL_MS,
      timeoutMs: 1000,
    };
    const inflight = {
      inflight: INFLIGHT_TARGETS,
      blackholeV4: truth.blackhole.v4.split('.').slice(0, 3).join('.'),
      blackholeV6: truth.blackhole.v6.replace(/::[0-9a-f]+$/, '::'),
      loopbackTargets: LOOPBACK_LOAD.targets,
      loopbackRate: LOOPBACK_LOAD.rate,
    };
    // Ping sockets (uid 65534, no capability) need the namespace's ping_group_range open; root's
    // raw socket rows are unaffected (auto prefers raw).
    await lab.exec(ns, ['sysctl', '-qw', 'net.ipv4.ping_group_range=0 2147483647']);
    /** @type {{ socket: 'datagram', unprivileged: true }} */
    const pingSocket = { socket: 'datagram', unprivileged: true };
    /** @type {[string, Partial<typeof inflight> & { busyFraction?: number } & Partial<typeof pingSocket>][]} */
    const scenarios = [
      ['vantage, idle', {}],
      [`vantage, ${fmt(INFLIGHT_TARGETS, 0)} targets in flight`, inflight],
      [`vantage, loop ${BUSY_FRACTION * 100} % busy`, { busyFraction: BUSY_FRACTION }],
      [`vantage, ${fmt(INFLIGHT_TARGETS, 0)} in flight + loop busy`, { ...inflight, busyFraction: BUSY_FRACTION }],
      ['vantage ping socket (uid 65534), idle', pingSocket],
      [
        `vantage ping socket (uid 65534), ${fmt(INFLIGHT_TARGETS, 0)} in flight + loop busy`,
        { ...inflight, busyFraction: BUSY_FRACTION, ...pingSocket },
      ],
    ];
    /** @type {AccuracyRow[]} */
    const rows = [];
    /**
     * Runs `fn` under a capture and adds its row.
     * @template {ToolRtts} R
     * @param {string} label
     * @param {() => Promise<R>} fn
     * @param {(res: R) => RowExtra} extra
     */
    const captured = async (label, fn, extra) => {
      const file = join(dir, `${label.replace(/\W+/g, '-')}.pcap`);
      const cap = await startCapture(ns, iface, hosts, file);
      let res;
      let capture;
      try {
        res = await fn();
      } finally {
        capture = await cap.stop();
      }
      rows.push(accuracyRow(label, res, capture, truth, extra(res)));
    };
    for (const [label, load] of scenarios) {
      await captured(
        label,
        () => icmpProbe('accuracy', { ...probeArgs, ...load }, { ns }),
        (r) => ({ tool: 'vantage', load: r.load, statuses: r.statuses, engine: r.engine }),
      );
    }
    if (have.ping) {
      await captured(
        'iputils ping (reference)',
        () => pingRtts(ns, truth),
        (r) => ({ tool: 'ping', summaryAvgUs: { echo: r.echoAvgUs, path: r.pathAvgUs } }),
      );
    }
    if (have.blackbox) {
      const bb = await startBlackbox(dir, BLACKBOX_ICMP_CONFIG, { ns });
      try {
        await captured(
          'blackbox_exporter icmp',
          () => icmpProbe('blackbox', { ...probeArgs, port: bb.port }, { ns }),
          () => ({ tool: 'blackbox_exporter' }),
        );
      } finally {
        await stopChild(bb.child);
      }
    }
    /** @type {{ echo: string, delayMs: number, path: string, iface: string, ns: string }} */
    const truthSummary = { echo: truth.echo.v4, delayMs: truth.echo.delayMs, path: truth.hosts.up[0].v4, iface, ns };
    return { rows, truth: truthSummary };
  });
}
