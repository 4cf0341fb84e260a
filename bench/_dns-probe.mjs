// Runs inside a lab namespace (spawned by bench/dns.mjs): N queries with Vantage's DNS client,
// one after the other, printing every query's `request` phase (ms) as JSON.
// Usage: node bench/_dns-probe.mjs TRANSPORT SERVER_IP PORT NAME COUNT [SERVER_NAME] [CA_FILE]
import { readFileSync } from 'node:fs';
import { loadDist } from './lib.mjs';

const [transport, address, port, name, count, serverName, caFile] = process.argv.slice(2);
const { DnsClient } = await loadDist('net/dns/dns-client.js');
const { systemClock } = await loadDist('clock.js');
const client = new DnsClient(systemClock);
const times = [];
let failures = 0;
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
    times.push(answer.phasesMs.request);
  } catch {
    failures++;
  }
}
process.stdout.write(`${JSON.stringify({ times, failures })}\n`);
