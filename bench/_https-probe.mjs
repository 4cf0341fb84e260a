// @ts-check
// Runs inside a lab namespace (spawned by bench/https.mjs): N requests to one URL, pinned to one IP,
// each on a fresh connection, with either Vantage's client or got, printing every phase as JSON.
// Usage: node bench/_https-probe.mjs vantage|got URL IP CA_FILE COUNT HTTP_VERSION
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import got from 'got';
import { loadDist } from './lib/dist.mjs';

/**
 * One request's phases (ms; null where the tool has no such phase): what this helper prints, one
 * per request, as a JSON array.
 * @typedef {{
 *   connect: number, tls: number, request: number | null, firstByte: number, headers: number | null,
 *   transfer: number,
 * }} HttpsPhases
 */

const [tool, url = '', ip = '', caFile = '', count, httpVersion] = process.argv.slice(2);
const ca = readFileSync(caFile, 'utf8');
/** @type {HttpsPhases[]} */
const runs = [];

/**
 * dns.lookup that answers every name with the lab server's IP, in both of its callback shapes.
 * @param {string} _host
 * @param {{ all?: boolean }} options
 * @param {(err: NodeJS.ErrnoException | null, address: any, family?: number) => void} callback address is a
 *   string, or an array with `all`: dns.lookup's own callback types it `any` for that reason
 */
function pinnedLookup(_host, options, callback) {
  if (options?.all) callback(null, [{ address: ip, family: 4 }]);
  else callback(null, ip, 4);
}

if (tool === 'vantage') {
  const { HttpsClient } = await loadDist('net/http/https-client.js');
  const { systemClock } = await loadDist('clock.js');
  const client = new HttpsClient(systemClock);
  for (let i = 0; i < Number(count); i++) {
    const x = await client.exchange({
      url: new URL(url),
      ip,
      method: 'GET',
      headers: {},
      httpVersion,
      maxBodyBytes: 1 << 20,
      ca,
      signal: AbortSignal.timeout(5_000),
    });
    // Cumulative stamps to phase durations, as the check reports them.
    const p = x.phasesMs;
    runs.push({
      connect: p.connect,
      tls: p.tls - p.connect,
      request: p.request - p.tls,
      firstByte: p.firstByte - p.request,
      headers: p.headers - p.firstByte,
      transfer: p.transfer - p.headers,
    });
  }
} else {
  // got as its users run it: retries off, a fresh connection each time, its own timings.
  for (let i = 0; i < Number(count); i++) {
    const res = await got(url, {
      dnsLookup: pinnedLookup,
      https: { certificateAuthority: ca },
      agent: { https: new Agent({ keepAlive: false, maxCachedSessions: 0 }) },
      retry: { limit: 0 },
      throwHttpErrors: false,
      http2: false,
    });
    const p = res.timings.phases;
    runs.push({
      connect: p.tcp ?? NaN,
      tls: p.tls ?? NaN,
      request: p.request ?? NaN,
      firstByte: p.firstByte ?? NaN,
      headers: 0,
      transfer: p.download ?? NaN,
    });
  }
}
process.stdout.write(`${JSON.stringify(runs)}\n`);
