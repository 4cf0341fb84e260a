// @ts-check
// The fleet simulator's load: one real agent with 50 targets (40 icmp, 5 https, 5 dns, against
// loopback) recorded once, then replayed by an HTTP server under N identities (agent, region,
// carrier, network_type): gauges jittered and counters advancing on every scrape, so the stores
// compress real-looking data rather than constants.
import { createServer } from 'node:http';
import { join } from 'node:path';
import { delay, LOOPBACK } from '../lib/http.mjs';
import { stopChild } from '../lib/proc.mjs';
import { rawGet, startAgent, startTargets, writeAgentConfig } from './common.mjs';

/** @import { AddressInfo } from 'node:net' */

const REGIONS = ['eu-west-1', 'eu-central-1', 'us-east-1', 'us-west-2', 'ap-southeast-1', 'sa-east-1', 'af-south-1'];
const TYPES = ['mobile', 'fixed', 'datacenter'];

/**
 * The template: lines of one real agent, split into head (name and labels) and value.
 * @param {string} dir
 */
export async function template(dir) {
  const targets = await startTargets(dir);
  try {
    const cfg = join(dir, 'sim-agent.yaml');
    await writeAgentConfig(cfg, { icmp: 40, https: 5, dns: 5, interval: 10 }, targets);
    const agent = await startAgent(cfg);
    await delay(12_000);
    const { text } = await rawGet(agent.port, '/metrics', false);
    await stopChild(agent.child);
    return text
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => {
        const at = l.lastIndexOf(' ');
        const head = l.slice(0, at);
        const v = Number(l.slice(at + 1));
        const name = head.split('{')[0] ?? '';
        const counter = /_(total|count|sum|bucket)$/.test(name);
        return { head, v: Number.isFinite(v) ? v : 0, counter };
      });
  } finally {
    targets.close();
  }
}

/**
 * The replay server: /m/I serves agent I's series. Any other path answers 200 (vmalert's notifier).
 * @param {Awaited<ReturnType<typeof template>>} lines
 */
export async function replayServer(lines) {
  let scrapes = 0;
  const server = createServer((req, res) => {
    const m = /^\/m\/(\d+)$/.exec(req.url ?? '');
    if (!m) return void res.end();
    const i = Number(m[1]);
    const n = ++scrapes;
    const ident = [
      `agent="sim-${i}"`,
      `region="${REGIONS[i % REGIONS.length]}"`,
      `carrier="carrier-${i % 23}"`,
      `network_type="${TYPES[i % TYPES.length]}"`,
    ];
    const out = lines.map(({ head, v, counter }) => {
      const value = counter
        ? v + (v > 0 ? Math.floor(n / 1000) : 0)
        : Number.isInteger(v)
          ? v
          : +(v * (0.8 + Math.random() * 0.4)).toPrecision(5);
      return `${head} ${value}`;
    });
    const body = out
      .join('\n')
      .replaceAll('agent="fleet-bench"', ident[0] ?? '')
      .replaceAll('region="eu-west-1"', ident[1] ?? '')
      .replaceAll('carrier="bench-carrier"', ident[2] ?? '')
      .replaceAll('network_type="mobile"', ident[3] ?? '');
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(`${body}\n`);
  });
  await new Promise((r) => server.listen(0, LOOPBACK, () => r(undefined)));
  return { server, port: /** @type {AddressInfo} */ (server.address()).port };
}
