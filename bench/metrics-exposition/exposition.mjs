// @ts-check
// The two expositions over the same recorder: ours (MetricRegistries' SeriesStore, written as the
// agent's server writes it: streamScrape) and prom-client's (metrics in a registry, fed through
// promClientStore; registry.metrics(): prom-client's render, as the agent did before).
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { loadDist } from '../lib/dist.mjs';
import { promClientStore } from './prom-client-store.mjs';
import { GZIP_LEVEL, IDENTITY } from './settings.mjs';

/** @import { Writable } from 'node:stream' */
/** @import { Engine } from './settings.mjs' */

/**
 * A ProbeRecorder writing to `engine`'s store, and the scrape of that store.
 * @param {Engine} engine
 */
export async function exposition(engine) {
  const promClient = await import('prom-client');
  const { MetricRegistries } = await loadDist('metrics/registries.js');
  const { ProbeRecorder } = await loadDist('metrics/probe-recorder.js');
  const { streamScrape } = await loadDist('web/server.js');
  const { icmpKind } = await loadDist('checks/icmp/index.js');

  const registries = new MetricRegistries({ processMetrics: engine === 'ours' });
  const promRegistry = new promClient.Registry();
  if (engine === 'prom-client') promClient.collectDefaultMetrics({ register: promRegistry });
  registries.setDefaultLabels(IDENTITY);
  promRegistry.setDefaultLabels(IDENTITY);
  const target = engine === 'ours' ? registries : { series: promClientStore(promClient, promRegistry) };
  const recorder = new ProbeRecorder(target, [icmpKind]);

  /**
   * One scrape written to `dest`: ours as the agent's server writes it (streamScrape: chunks reused
   * once written, gzip off the loop), prom-client's body rendered whole and then written the same way.
   * @param {Writable} dest
   * @param {boolean} zipped
   * @returns {Promise<unknown>}
   */
  const scrapeTo = async (dest, zipped) => {
    if (engine === 'ours') return streamScrape(await registries.scrape(false), dest, zipped);
    const body = Readable.from([Buffer.from(await promRegistry.metrics())], { objectMode: false });
    if (zipped) return pipeline(body, createGzip({ level: GZIP_LEVEL, chunkSize: 64 * 1024 }), dest);
    return pipeline(body, dest);
  };
  return { recorder, scrapeTo };
}
