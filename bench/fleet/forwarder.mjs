// @ts-check
// Part 1 and 3 of the fleet benchmark: one real agent (icmp + https + dns checks against loopback
// targets) scraped every 15 s by both forwarders at once, Prometheus in agent mode and vmagent, each
// remote_writing to one central VictoriaMetrics (series tell them apart by a `forwarder` label).
// Steady state: RSS, CPU, WAL/queue disk, bytes sent per minute (the forwarders' own counters), and
// the agent's scrape size plain and gzip. Then the central store is stopped for OUTAGE minutes and
// started again on the same data: WAL growth, samples of the outage window counted per series
// (missing, duplicated), and the time until the forwarder's backlog has arrived.
import { join } from 'node:path';
import { delay } from '../lib/http.mjs';
import { stopChild } from '../lib/proc.mjs';
import { fmt } from '../lib/table.mjs';
import {
  dirBytes,
  exportSeries,
  get,
  MB,
  metricSum,
  procStats,
  rawGet,
  startAgent,
  startTargets,
  startVictoria,
  writeAgentConfig,
} from './common.mjs';
import { startForwarders } from './forwarders-start.mjs';

/** @import { Section } from '../lib/table.mjs' */
/** @import { Engine } from './common.mjs' */
/** @import { Forwarder } from './forwarders-start.mjs' */

const SCRAPE_S = 15;

/**
 * Figures of one forwarder.
 * @typedef {{
 *   rssMB: number, cpuPct: number, diskMB: number, sentKBPerMin: number, walPeakMB: number, walAfterMB: number,
 *   hwmMB: number, outageSeries: number, outageSamples: number, expected: number, missing: number,
 *   duplicated: number, catchUpS: number | null, catchUpCpuPct: number,
 * }} ForwarderRaw
 */

/**
 * @typedef {{
 *   checks: { icmp: number, https: number, dns: number }, series: number, scrapePlainKB: number,
 *   scrapeGzipKB: number, outageMin: number, configs: string, forwarders: Record<string, ForwarderRaw>,
 * }} ForwarderResult
 */

/**
 * CPU seconds, RSS and bytes sent of a forwarder now.
 * @param {Forwarder} f
 */
async function sample(f) {
  const { text } = await get(f.engine.port, '/metrics');
  return { ...procStats(f.engine.child.pid), sent: metricSum(text, f.bytesMetric), t: performance.now() };
}

/**
 * Samples of every series of a forwarder between two times: counted, with gaps and duplicates.
 * @param {number} storePort
 * @param {string} name
 * @param {number} fromMs
 * @param {number} toMs
 */
async function countWindow(storePort, name, fromMs, toMs) {
  const series = await exportSeries(storePort, `{forwarder="${name}",job="vantage"}`, fromMs, toMs);
  let samples = 0;
  let missing = 0;
  let duplicated = 0;
  const perSeries = Math.floor((toMs - fromMs) / 1000 / SCRAPE_S);
  for (const s of series) {
    const ts = [...s.ts].sort((a, b) => a - b);
    samples += ts.length;
    for (let i = 1; i < ts.length; i++) {
      const gap = (ts[i] ?? 0) - (ts[i - 1] ?? 0);
      if (gap === 0) duplicated++;
      else if (gap > SCRAPE_S * 1500) missing += Math.round(gap / 1000 / SCRAPE_S) - 1;
    }
  }
  return { series: series.length, samples, missing, duplicated, expected: series.length * perSeries };
}

/**
 * Runs parts 1 and 3.
 * @param {string} dir
 * @param {{ outageMin: number, steadyS: number, progress: (s: string) => void }} o
 * @returns {Promise<ForwarderResult>}
 */
export async function runForwarders(dir, { outageMin, steadyS, progress }) {
  const checks = { icmp: 100, https: 20, dns: 20 };
  const targets = await startTargets(dir);
  /** @type {Engine | undefined} */
  let store;
  /** @type {Forwarder[]} */
  let fwd = [];
  /** @type {import('../lib/proc.mjs').TrackedChild | undefined} */
  let agentChild;
  try {
    const cfg = join(dir, 'agent.yaml');
    await writeAgentConfig(cfg, { ...checks, interval: SCRAPE_S }, targets);
    const agent = await startAgent(cfg);
    agentChild = agent.child;
    store = await startVictoria(join(dir, 'central'));
    const started = await startForwarders(dir, agent.port, store.port, SCRAPE_S);
    fwd = started.forwarders;
    progress(`fleet: forwarders up, ${steadyS + 45} s of steady state`);
    await delay(45_000);
    const plain = await rawGet(agent.port, '/metrics', false);
    const gz = await rawGet(agent.port, '/metrics', true);
    const series = plain.text.split('\n').filter((l) => l && !l.startsWith('#')).length;
    const a = await Promise.all(fwd.map(sample));
    await delay(steadyS * 1000);
    const b = await Promise.all(fwd.map(sample));
    const disk = fwd.map((f) => dirBytes(f.wal));

    progress(`fleet: central store down for ${outageMin} min`);
    const storePort = store.port;
    await stopChild(store.child, 10_000);
    const outStart = Date.now();
    const walPeak = fwd.map(() => 0);
    while (Date.now() - outStart < outageMin * 60_000) {
      await delay(10_000);
      fwd.forEach((f, i) => (walPeak[i] = Math.max(walPeak[i] ?? 0, dirBytes(f.wal))));
    }
    const outEnd = Date.now();
    store = await startVictoria(join(dir, 'central'), storePort);
    const back = performance.now();
    const c = await Promise.all(fwd.map(sample));
    progress('fleet: central store back, waiting for the backlog');
    const wanted = Math.floor((outEnd - outStart) / 1000 / SCRAPE_S) - 1;
    /** @type {(number | null)[]} */
    const catchUp = fwd.map(() => null);
    while (catchUp.some((x) => x === null) && performance.now() - back < 300_000) {
      for (const [i, f] of fwd.entries()) {
        if (catchUp[i] !== null) continue;
        const up = await exportSeries(storePort, `up{forwarder="${f.name}",job="vantage"}`, outStart, outEnd);
        if ((up[0]?.ts.length ?? 0) >= wanted) catchUp[i] = (performance.now() - back) / 1000;
      }
      await delay(2000);
    }
    // the rest of the backlog, the minute after the outage, and the store's in-memory parts
    await delay(Math.max(20_000, outEnd + 80_000 - Date.now()));
    const d = await Promise.all(fwd.map(sample));
    /** @type {Record<string, ForwarderRaw>} */
    const forwarders = {};
    for (const [i, f] of fwd.entries()) {
      const [sa, sb, sc, sd] = [a[i], b[i], c[i], d[i]];
      if (!sa || !sb || !sc || !sd) continue;
      const mins = (sb.t - sa.t) / 60_000;
      const count = await countWindow(storePort, f.name, outStart - 60_000, outEnd + 60_000);
      forwarders[f.name] = {
        rssMB: sb.rssMB,
        cpuPct: ((sb.cpuS - sa.cpuS) / ((sb.t - sa.t) / 1000)) * 100,
        diskMB: (disk[i] ?? 0) / MB,
        sentKBPerMin: (sb.sent - sa.sent) / 1024 / mins,
        walPeakMB: (walPeak[i] ?? 0) / MB,
        walAfterMB: dirBytes(f.wal) / MB,
        hwmMB: sd.hwmMB,
        outageSeries: count.series,
        outageSamples: count.samples,
        expected: count.expected,
        missing: count.missing,
        duplicated: count.duplicated,
        catchUpS: catchUp[i] ?? null,
        catchUpCpuPct: ((sd.cpuS - sc.cpuS) / ((sd.t - sc.t) / 1000)) * 100,
      };
    }
    return {
      checks,
      series,
      scrapePlainKB: plain.wireBytes / 1024,
      scrapeGzipKB: gz.wireBytes / 1024,
      outageMin,
      configs: started.source,
      forwarders,
    };
  } finally {
    await Promise.all([...fwd.map((f) => stopChild(f.engine.child)), stopChild(store?.child), stopChild(agentChild)]);
    targets.close();
  }
}

/**
 * The printed sections: forwarders side by side, then bytes per minute of one vantage point.
 * @param {ForwarderResult} r
 * @returns {Section[]}
 */
export function forwarderSections(r) {
  const names = Object.keys(r.forwarders);
  /** @type {Array<[string, (f: ForwarderRaw) => string]>} */
  const rows = [
    ['RSS steady (MB)', (f) => fmt(f.rssMB, 1)],
    ['CPU steady (% of a core)', (f) => fmt(f.cpuPct, 2)],
    ['WAL/queue on disk, steady (MB)', (f) => fmt(f.diskMB, 2)],
    ['remote_write sent (KB/min)', (f) => fmt(f.sentKBPerMin, 1)],
    [`WAL/queue peak in ${r.outageMin} min outage (MB)`, (f) => fmt(f.walPeakMB, 2)],
    ['WAL/queue after catch-up (MB)', (f) => fmt(f.walAfterMB, 2)],
    ['peak RSS over the run (MB)', (f) => fmt(f.hwmMB, 1)],
    ['CPU during catch-up (% of a core)', (f) => fmt(f.catchUpCpuPct, 1)],
    ['time to catch up (s)', (f) => (f.catchUpS === null ? '> 300' : fmt(f.catchUpS, 0))],
    ['series in outage window', (f) => fmt(f.outageSeries, 0)],
    ['samples counted / expected', (f) => `${fmt(f.outageSamples, 0)} / ${fmt(f.expected, 0)}`],
    ['samples missing (gaps)', (f) => fmt(f.missing, 0)],
    ['samples duplicated', (f) => fmt(f.duplicated, 0)],
  ];
  const perMin = 60 / SCRAPE_S;
  const rw = (/** @type {string} */ n) => r.forwarders[n]?.sentKBPerMin;
  return [
    {
      heading:
        `forwarders side by side: one agent (${r.checks.icmp} icmp + ${r.checks.https} https + ` +
        `${r.checks.dns} dns checks, ${r.series} series), scraped every ${SCRAPE_S} s, remote_write to ` +
        `VictoriaMetrics; then the store down ${r.outageMin} min (${r.configs})`,
      headers: ['measure', ...names],
      rows: rows.map(([label, f]) => [label, ...names.map((n) => (r.forwarders[n] ? f(r.forwarders[n]) : '-'))]),
      notes: [
        'samples counted over the outage window +- 1 min per series of job="vantage" (up included): a gap over',
        `1.5 x ${SCRAPE_S} s counts as missing; catch-up = store back until its up series has every outage sample`,
      ],
    },
    {
      heading: `bytes one vantage point sends per minute (${r.series} series, every ${SCRAPE_S} s)`,
      headers: ['path', 'KB/min', 'MB/day'],
      rows: [
        ['scrape, plain', fmt(r.scrapePlainKB * perMin, 1), fmt((r.scrapePlainKB * perMin * 1440) / 1024, 1)],
        ['scrape, gzip', fmt(r.scrapeGzipKB * perMin, 1), fmt((r.scrapeGzipKB * perMin * 1440) / 1024, 1)],
        ...names.map((n) => [`remote_write, ${n}`, fmt(rw(n), 1), fmt(((rw(n) ?? NaN) * 1440) / 1024, 1)]),
      ],
    },
  ];
}
