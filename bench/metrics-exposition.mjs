// @ts-check
// /metrics exposition, ours against prom-client's own render of the same series (issue 13).
// Each (scale, engine) runs in a fresh child process of this file (clean heap figures): icmp checks
// (1 IP each, count 1, like the fleet; metrics-exposition/series.mjs) recorded through the
// real ProbeRecorder into either our SeriesStore (MetricRegistries.scrape, written as the server
// writes it: streamScrape) or, through an adapter (metrics-exposition/prom-client-store.mjs),
// prom-client metrics in a registry (registry.metrics(): prom-client's render, as the agent did
// before); metrics-exposition/exposition.mjs. Then scrapes, each piped to a byte-counting sink, plain
// and through gzip (the server's level): event-loop busy time per scrape, the longest stretch the
// loop was held (1 ms ticks), wall time, CPU of all threads (gzip runs on the libuv pool), bytes
// (metrics-exposition/loop-block.mjs). No HTTP socket: the sink takes every chunk at once, so the
// numbers are the exposition's own. The table: metrics-exposition/report.mjs.
import { loadavg } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { helperJson } from './lib/helpers.mjs';
import { runStandalone } from './lib/standalone.mjs';
import { child } from './metrics-exposition/child.mjs';
import { report } from './metrics-exposition/report.mjs';
import { ENGINES, SCALES } from './metrics-exposition/settings.mjs';

/** @import { ChildResult } from './metrics-exposition/settings.mjs' */

export { headline } from './metrics-exposition/report.mjs';

export async function run() {
  const loadBefore = loadavg()[0] ?? NaN;
  /** @type {ChildResult[]} */
  const results = [];
  for (const wanted of SCALES) {
    for (const engine of ENGINES) {
      const r = /** @type {ChildResult} */ (
        await helperJson('metrics-exposition.mjs', ['--child', engine, String(wanted)], { timeoutMs: 120_000 })
      );
      results.push(r);
    }
  }
  return report(results, loadBefore);
}

const self = fileURLToPath(import.meta.url);
if (
  process.argv[1] &&
  pathToFileURL(process.argv[1]).href === pathToFileURL(self).href &&
  process.argv[2] === '--child'
) {
  const engine = process.argv[3] === 'prom-client' ? 'prom-client' : 'ours';
  await child(engine, Number(process.argv[4]));
} else {
  await runStandalone(import.meta.url, run);
}
