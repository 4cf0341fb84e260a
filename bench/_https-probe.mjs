// Runs inside a lab namespace (spawned by bench/https.mjs): N requests to one URL, pinned to one IP,
// each on a fresh connection, with either Vantage's client or got, printing every phase as JSON.
// Usage: node bench/_https-probe.mjs vantage|got URL IP CA_FILE COUNT HTTP_VERSION
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import got from 'got';
import { loadDist } from './lib.mjs';

const [tool, url, ip, caFile, count, httpVersion] = process.argv.slice(2);
const ca = readFileSync(caFile, 'utf8');
const runs = [];

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
      keepBodyBytes: 1 << 20,
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
      dnsLookup: (_host, options, callback) =>
        options?.all ? callback(null, [{ address: ip, family: 4 }]) : callback(null, ip, 4),
      https: { certificateAuthority: ca },
      agent: { https: new Agent({ keepAlive: false, maxCachedSessions: 0 }) },
      retry: { limit: 0 },
      throwHttpErrors: false,
      http2: false,
    });
    const p = res.timings.phases;
    runs.push({
      connect: p.tcp,
      tls: p.tls,
      request: p.request,
      firstByte: p.firstByte,
      headers: 0,
      transfer: p.download,
    });
  }
}
process.stdout.write(`${JSON.stringify(runs)}\n`);
