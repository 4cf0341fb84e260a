// @ts-check
// Part 2 of the fleet benchmark: a fleet simulator. N agents' series (replay.mjs: one real agent with
// 50 targets replayed under N identities, served from this process). vmagent scrapes all N every 15 s and
// remote_writes to (a) Prometheus --web.enable-remote-write-receiver running the shipped rules, or
// (b) VictoriaMetrics single-node with vmalert running the same rules file. Per point: warm-up, then
// POINT seconds measured: ingest samples/s against offered, RSS, CPU, disk growth, rule evaluation.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ROOT } from '../lib/dist.mjs';
import { delay, LOOPBACK } from '../lib/http.mjs';
import { removeTempDir, stopChild } from '../lib/proc.mjs';
import { fmt } from '../lib/table.mjs';
import { dirBytes, get, MB, metricSum, procStats, startEngine, startVictoria } from './common.mjs';
import { replayServer, template } from './replay.mjs';

/** @import { Section } from '../lib/table.mjs' */
/** @import { Engine } from './common.mjs' */

const SCRAPE_S = 15;
const WARMUP_S = 30;
const RULES = join(ROOT, 'deploy', 'prometheus', 'vantage-rules.yaml');

/**
 * @typedef {{
 *   store: string, agents: number, series: number, offeredPerS: number, ingestPerS: number, rssMB: number,
 *   cpuPct: number, diskGBPerDay: number, ruleMs: number, ruleMaxMs: number, missed: number,
 *   vmagentCpuPct: number, replayCpuPct: number, pendingMB: number, behind: string, groups: string,
 * }} SimPoint
 */
/** @typedef {{ seriesPerAgent: number, targetsPerAgent: number, points: SimPoint[] }} SimResult */

/**
 * The central store of a point (and vmalert for VictoriaMetrics).
 * @param {'prometheus' | 'victoria'} kind
 * @param {string} dir
 * @param {number} notifyPort
 * @returns {Promise<{ store: Engine, vmalert?: Engine }>}
 */
async function startStore(kind, dir, notifyPort) {
  if (kind === 'victoria') {
    const store = await startVictoria(join(dir, 'vm'));
    const url = `http://${LOOPBACK}:${store.port}`;
    const vmalert = await startEngine(
      'vmalert',
      (p) => [
        `-rule=${RULES}`,
        `-datasource.url=${url}`,
        `-remoteWrite.url=${url}`,
        `-notifier.url=http://${LOOPBACK}:${notifyPort}`,
        `-evaluationInterval=${SCRAPE_S}s`,
        `-httpListenAddr=${LOOPBACK}:${p}`,
        '-loggerLevel=ERROR',
      ],
      dir,
    );
    return { store, vmalert };
  }
  const cfg = join(dir, 'prometheus.yml');
  await writeFile(cfg, `global:\n  evaluation_interval: ${SCRAPE_S}s\nrule_files:\n  - ${RULES}\n`);
  const store = await startEngine(
    'prometheus',
    (p) => [
      `--config.file=${cfg}`,
      `--storage.tsdb.path=${join(dir, 'tsdb')}`,
      '--web.enable-remote-write-receiver',
      `--web.listen-address=${LOOPBACK}:${p}`,
      '--log.level=error',
    ],
    join(dir, 'tsdb'),
    { health: '/-/ready' },
  );
  return { store };
}

/**
 * Store-side figures now: ingest counter, CPU, RSS, disk, rule timings.
 * @param {'prometheus' | 'victoria'} kind
 * @param {{ store: Engine, vmalert?: Engine }} s
 */
async function storeSample(kind, s) {
  const { text } = await get(s.store.port, '/metrics');
  const p = procStats(s.store.child.pid);
  const base = { ...p, t: performance.now(), disk: dirBytes(s.store.dir) };
  if (kind === 'prometheus')
    return {
      ...base,
      ingested: metricSum(text, 'prometheus_tsdb_head_samples_appended_total'),
      ruleS: metricSum(text, 'prometheus_rule_group_last_duration_seconds'),
      groups: ['vantage.targets', 'vantage.trends', 'vantage.agent'].map(
        (g) => `${g} ${fmt(metricSum(text, 'prometheus_rule_group_last_duration_seconds', `;${g}"`), 2)} s`,
      ),
      ruleSum: 0,
      ruleCount: 0,
      missed: metricSum(text, 'prometheus_rule_group_iterations_missed_total'),
      alertCpuS: 0,
    };
  const a = s.vmalert ? (await get(s.vmalert.port, '/metrics')).text : '';
  return {
    ...base,
    ingested: metricSum(text, 'vm_rows_inserted_total', 'promremotewrite'),
    ruleS: 0,
    groups: [],
    ruleSum: metricSum(a, 'vmalert_iteration_duration_seconds_sum'),
    ruleCount: metricSum(a, 'vmalert_iteration_duration_seconds_count'),
    missed: metricSum(a, 'vmalert_iteration_missed_total'),
    alertCpuS: procStats(s.vmalert?.child.pid).cpuS,
  };
}

/**
 * One point: `agents` simulated agents into one store for `pointS` measured seconds.
 * @param {{
 *   kind: 'prometheus' | 'victoria', agents: number, pointS: number, dir: string, port: number, series: number,
 * }} o
 * @returns {Promise<SimPoint>}
 */
async function point({ kind, agents, pointS, dir, port, series }) {
  /** @type {{ store: Engine, vmalert?: Engine } | undefined} */
  let s;
  /** @type {Engine | undefined} */
  let vmagent;
  try {
    s = await startStore(kind, dir, port);
    const write = `http://${LOOPBACK}:${s.store.port}/api/v1/write`;
    const targets = Array.from(
      { length: agents },
      (_, i) =>
        `      - targets: ['${LOOPBACK}:${port}']\n` +
        `        labels: {instance: 'sim-${i}:9477', __metrics_path__: '/m/${i}'}`,
    );
    const cfg = join(dir, 'vmagent.yml');
    await writeFile(
      cfg,
      `global:\n  scrape_interval: ${SCRAPE_S}s\nscrape_configs:\n  - job_name: vantage\n    static_configs:\n` +
        `${targets.join('\n')}\n`,
    );
    vmagent = await startEngine(
      'vmagent',
      (p) => [
        `-promscrape.config=${cfg}`,
        `-remoteWrite.url=${write}`,
        `-remoteWrite.tmpDataPath=${join(dir, 'vmagent-queue')}`,
        `-httpListenAddr=${LOOPBACK}:${p}`,
        '-loggerLevel=ERROR',
      ],
      dir,
    );
    await delay(WARMUP_S * 1000);
    const va = procStats(vmagent.child.pid).cpuS;
    const ra = process.cpuUsage();
    const a = await storeSample(kind, s);
    let ruleMaxS = 0;
    const end = performance.now() + pointS * 1000;
    while (performance.now() < end) {
      await delay(Math.min(SCRAPE_S * 1000, end - performance.now()));
      ruleMaxS = Math.max(ruleMaxS, (await storeSample(kind, s)).ruleS);
    }
    const b = await storeSample(kind, s);
    const secs = (b.t - a.t) / 1000;
    const vmText = (await get(vmagent.port, '/metrics')).text;
    const pendingMB = metricSum(vmText, 'vmagent_remotewrite_pending_data_bytes') / MB;
    const rc = process.cpuUsage(ra);
    const offeredPerS = (series * agents) / SCRAPE_S;
    const ingestPerS = (b.ingested - a.ingested) / secs;
    const ruleMs =
      kind === 'prometheus'
        ? b.ruleS * 1000
        : ((b.ruleSum - a.ruleSum) / Math.max(1, b.ruleCount - a.ruleCount)) * 1000 * 3;
    const missed = b.missed - a.missed;
    const behind = [
      ingestPerS < offeredPerS * 0.9 ? 'ingest < 90 % offered' : '',
      pendingMB > 1 ? `vmagent queue ${fmt(pendingMB, 0)} MB` : '',
      missed > 0 ? `${missed} rule evals missed` : '',
      ruleMs > SCRAPE_S * 1000 * 0.5 ? 'rules > half the interval' : '',
    ].filter(Boolean);
    return {
      store: kind,
      agents,
      series: series * agents,
      offeredPerS,
      ingestPerS,
      rssMB: b.rssMB,
      cpuPct: ((b.cpuS - a.cpuS + b.alertCpuS - a.alertCpuS) / secs) * 100,
      diskGBPerDay: ((b.disk - a.disk) / secs) * (86_400 / 1024 ** 3),
      ruleMs,
      ruleMaxMs: kind === 'prometheus' ? ruleMaxS * 1000 : ruleMs,
      missed,
      vmagentCpuPct: ((procStats(vmagent.child.pid).cpuS - va) / secs) * 100,
      replayCpuPct: ((rc.user + rc.system) / 1e6 / secs) * 100,
      pendingMB,
      behind: behind.join('; ') || 'no',
      groups: b.groups.join(', '),
    };
  } finally {
    await Promise.all([stopChild(vmagent?.child), stopChild(s?.vmalert?.child), stopChild(s?.store.child, 10_000)]);
  }
}

/**
 * Runs every (store, agents) point, one at a time.
 * @param {string} dir
 * @param {{
 *   agents: number[], stores: Array<'prometheus' | 'victoria'>, pointS: number, progress: (s: string) => void,
 * }} o
 * @returns {Promise<SimResult>}
 */
export async function runSimulator(dir, { agents, stores, pointS, progress }) {
  progress('fleet sim: recording one real agent with 50 targets');
  const lines = await template(dir);
  const replay = await replayServer(lines);
  /** @type {SimPoint[]} */
  const points = [];
  try {
    for (const kind of stores)
      for (const n of agents) {
        progress(`fleet sim: ${kind}, ${n} agents x ${lines.length} series, ${WARMUP_S + pointS} s`);
        const pdir = join(dir, `${kind}-${n}`);
        await mkdir(pdir, { recursive: true });
        try {
          points.push(await point({ kind, agents: n, pointS, dir: pdir, port: replay.port, series: lines.length + 1 }));
        } finally {
          removeTempDir(pdir);
        }
      }
  } finally {
    replay.server.closeAllConnections();
    replay.server.close();
  }
  return { seriesPerAgent: lines.length + 1, targetsPerAgent: 50, points };
}

/**
 * @param {SimResult} r
 * @returns {Section[]}
 */
export function simulatorSections(r) {
  return [
    {
      heading:
        `fleet simulator: N agents x ${r.targetsPerAgent} targets (${r.seriesPerAgent} series each, with up) ` +
        `scraped every ${SCRAPE_S} s by vmagent, remote_write into the store; shipped rules every ${SCRAPE_S} s`,
      headers: [
        'store',
        'agents',
        'series',
        'offered/s',
        'ingest/s',
        'RSS MB',
        'CPU %',
        'disk GB/day',
        'rules ms',
        'rules max ms',
        'vmagent CPU %',
        'replay CPU %',
        'behind',
      ],
      rows: r.points.map((p) => [
        p.store,
        p.agents,
        fmt(p.series, 0),
        fmt(p.offeredPerS, 0),
        fmt(p.ingestPerS, 0),
        fmt(p.rssMB, 0),
        fmt(p.cpuPct, 0),
        fmt(p.diskGBPerDay, 2),
        fmt(p.ruleMs, 1),
        fmt(p.ruleMaxMs, 1),
        fmt(p.vmagentCpuPct, 0),
        fmt(p.replayCpuPct, 0),
        p.behind,
      ]),
      notes: [
        'CPU % of one core (2 cores = 200 %); victoria CPU includes vmalert. ingest counts rule outputs and',
        "vmagent's 5 per-target series (up, scrape_*): a little above offered when keeping up.",
        "rules ms: Prometheus = sum of the groups' last durations at the end, max = highest sum seen;",
        'VictoriaMetrics = mean vmalert iteration duration x 3 groups. disk/day: growth of the data dir over',
        'the measured window x 86,400 s (WAL and head chunks before compaction for Prometheus: an upper bound).',
        ...r.points.filter((p) => p.groups).map((p) => `rule groups, ${p.store} ${p.agents} agents: ${p.groups}`),
      ],
    },
  ];
}
