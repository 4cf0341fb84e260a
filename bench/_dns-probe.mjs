// @ts-check
// Runs inside a lab namespace (spawned by bench/dns.mjs): N queries with Vantage's DNS client,
// one after the other, printing every query's `request` phase (ms) as JSON.
// Usage: node bench/_dns-probe.mjs TRANSPORT SERVER_IP PORT NAME COUNT [SERVER_NAME] [CA_FILE]
import { readFileSync } from 'node:fs';
import { loadDist } from './lib/dist.mjs';

/**
 * What this helper prints: the request phase of every query that was answered, and how many failed.
 * @typedef {{ times: number[], failures: number }} DnsProbeOutput
 */

const [transport, address, port, name, count, serverName, caFile] = process.argv.slice(2);
const { DnsClient } = await loadDist('net/dns/dns-client.js');
const { systemClock } = await loadDist('clock.js');
const client = new DnsClient(systemClock);
/** @type {DnsProbeOutput} */
const output = { times: [], failures: 0 };
for (let i = 0; i < Number(count); i++) {
  const signal = AbortSignal.timeout(3_000);
  try {
    const answer = await client.query({
      server: {
        transport,
        address,
        port: Number(port),
        ...(serverName ? { serverName } : {}),
        ...(caFile ? { ca: readFileSync(caFile, 'utf8') } : {}),
      },
      name,
      type: 'A',
      ednsUdpSize: 1232,
      signal,
    });
    output.times.push(answer.phasesMs.request);
  } catch {
    output.failures++;
  }
}
process.stdout.write(`${JSON.stringify(output)}\n`);
