// @ts-check
// The fleet benchmark (issue 14), not in CI nor in bench/run.mjs (it takes 15-25 minutes): run it
// alone with `npm run build && node bench/fleet/index.mjs`. Real engines from Debian: prometheus
// 2.42 (agent mode and remote-write receiver), victoria-metrics 1.79 (victoria-metrics, vmagent,
// vmalert); all traffic on 127.0.0.1, every process killed at exit.
//   1. forwarders: Prometheus agent mode vs vmagent with one real agent, then a central-store outage
//   2. fleet simulator: N replayed agents x 50 targets into a Prometheus receiver and VictoriaMetrics
//   3. bytes a vantage point sends per minute: scrape plain / gzip, remote_write per forwarder
// Environment: FLEET_PARTS=forwarders,sim (default both), FLEET_OUTAGE_MIN (default 5),
// FLEET_STEADY_S (default 120), FLEET_AGENTS=100,300,1000, FLEET_POINT_S (measured seconds per
// point, default 90, after a 30 s warm-up), FLEET_STORES=prometheus,victoria.
import { makeTempDir, removeTempDir } from '../lib/proc.mjs';
import { runStandalone } from '../lib/standalone.mjs';
import { fmt } from '../lib/table.mjs';
import { forwarderSections, runForwarders } from './forwarder.mjs';
import { runSimulator, simulatorSections } from './simulator.mjs';

/** @import { Cell, Section } from '../lib/table.mjs' */
/** @import { ForwarderResult } from './forwarder.mjs' */
/** @import { SimResult } from './simulator.mjs' */

/** @typedef {{ forwarders?: ForwarderResult, sim?: SimResult }} FleetRaw */

const env = process.env;
/** @param {string} s */
const progress = (s) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${s}\n`);

export async function run() {
  const parts = (env.FLEET_PARTS ?? 'forwarders,sim').split(',');
  const dir = makeTempDir('vantage-fleet-');
  /** @type {FleetRaw} */
  const raw = {};
  /** @type {Section[]} */
  const sections = [];
  try {
    if (parts.includes('forwarders')) {
      raw.forwarders = await runForwarders(dir, {
        outageMin: Number(env.FLEET_OUTAGE_MIN ?? 5),
        steadyS: Number(env.FLEET_STEADY_S ?? 120),
        progress,
      });
      sections.push(...forwarderSections(raw.forwarders));
    }
    if (parts.includes('sim')) {
      raw.sim = await runSimulator(dir, {
        agents: (env.FLEET_AGENTS ?? '100,300,1000').split(',').map(Number),
        stores: /** @type {Array<'prometheus' | 'victoria'>} */ (
          (env.FLEET_STORES ?? 'prometheus,victoria').split(',')
        ),
        pointS: Number(env.FLEET_POINT_S ?? 90),
        progress,
      });
      sections.push(...simulatorSections(raw.sim));
    }
  } finally {
    removeTempDir(dir);
  }
  return { title: 'fleet: forwarders, central stores, bytes per vantage point', sections, raw };
}

/**
 * @param {FleetRaw} raw
 * @returns {Cell[][]}
 */
export function headline(raw) {
  /** @type {Cell[][]} */
  const rows = [];
  for (const [name, f] of Object.entries(raw.forwarders?.forwarders ?? {}))
    rows.push([`${name} RSS / missing after outage`, `${fmt(f.rssMB, 0)} MB / ${f.missing}`, '-', 'forwarder']);
  for (const p of raw.sim?.points ?? [])
    rows.push([
      `${p.store} ${p.agents} agents ingest`,
      `${fmt(p.ingestPerS, 0)}/s`,
      `${fmt(p.offeredPerS, 0)}/s`,
      'offered',
    ]);
  return rows;
}

await runStandalone(import.meta.url, run);
