// @ts-check
// The two forwarders of the fleet benchmark, started on 127.0.0.1: with the shipped configs in
// deploy/fleet/ (prometheus-agent.yaml, vmagent-scrape.yaml and the flags their headers give) when
// present, rewritten only where a bench must (ports, the store's URL, the scrape interval, a
// `forwarder` label that tells the two apart in one store); else minimal configs of its own.
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ROOT } from '../lib/dist.mjs';
import { freePort, LOOPBACK } from '../lib/http.mjs';
import { startEngine } from './common.mjs';

/** @import { Engine } from './common.mjs' */

/** @typedef {{ name: string, engine: Engine, wal: string, bytesMetric: string }} Forwarder */

/** The identity writeAgentConfig gives the agent, for the shipped configs' placeholders. */
const ENV = {
  VANTAGE_AGENT_ID: 'fleet-bench',
  VANTAGE_REGION: 'eu-west-1',
  VANTAGE_CARRIER: 'bench-carrier',
  VANTAGE_NETWORK_TYPE: 'mobile',
  VANTAGE_INSTANCE: 'fleet-bench:9477',
};
const SHIPPED_PROM = join(ROOT, 'deploy', 'fleet', 'prometheus-agent.yaml');
const SHIPPED_VM = join(ROOT, 'deploy', 'fleet', 'vmagent-scrape.yaml');

/**
 * A minimal scrape config: the agent every `interval` s, job `vantage`.
 * @param {number} agentPort
 * @param {number} interval
 * @param {string} [external] an external `forwarder` label (Prometheus; vmagent adds it by flag)
 */
const ownConfig = (agentPort, interval, external) =>
  `global:
  scrape_interval: ${interval}s
  scrape_timeout: 10s
${external ? `  external_labels:\n    forwarder: ${external}\n` : ''}scrape_configs:
  - job_name: vantage
    static_configs:
      - targets: ['${LOOPBACK}:${agentPort}']
`;

/**
 * A shipped config with the bench's ports, URL and interval.
 * @param {string} file
 * @param {{ agentPort: number, selfPort: number, selfDefault: number, write: string, interval: number }} o
 */
function shipped(file, { agentPort, selfPort, selfDefault, write, interval }) {
  return readFileSync(file, 'utf8')
    .replaceAll('127.0.0.1:9477', `${LOOPBACK}:${agentPort}`)
    .replaceAll(`127.0.0.1:${selfDefault}`, `${LOOPBACK}:${selfPort}`)
    .replaceAll('https://metrics.example.com/api/v1/write', write)
    .replaceAll(/scrape_interval: \d+s/g, `scrape_interval: ${interval}s`);
}

/**
 * Starts both forwarders; `source` says which configs they run.
 * @param {string} dir
 * @param {number} agentPort
 * @param {number} storePort
 * @param {number} interval scrape interval, s
 * @returns {Promise<{ source: string, forwarders: Forwarder[] }>}
 */
export async function startForwarders(dir, agentPort, storePort, interval) {
  const write = `http://${LOOPBACK}:${storePort}/api/v1/write`;
  const useShipped = existsSync(SHIPPED_PROM) && existsSync(SHIPPED_VM);
  const [promPort, vmPort] = [await freePort(), await freePort()];
  const promCfg = join(dir, 'prom-agent.yml');
  const vmCfg = join(dir, 'vmagent.yml');
  if (useShipped) {
    const prom = shipped(SHIPPED_PROM, { agentPort, selfPort: promPort, selfDefault: 9090, write, interval });
    await writeFile(promCfg, prom.replace('  external_labels:\n', '  external_labels:\n    forwarder: prom-agent\n'));
    await writeFile(vmCfg, shipped(SHIPPED_VM, { agentPort, selfPort: vmPort, selfDefault: 8429, write, interval }));
  } else {
    await writeFile(promCfg, `${ownConfig(agentPort, interval, 'prom-agent')}remote_write:\n  - url: ${write}\n`);
    await writeFile(vmCfg, ownConfig(agentPort, interval));
  }
  const promWal = join(dir, 'prom-agent-wal');
  const prom = await startEngine(
    'prometheus',
    (p) => [
      useShipped ? '--enable-feature=agent,expand-external-labels' : '--enable-feature=agent',
      ...(useShipped ? ['--storage.agent.retention.max-time=24h'] : []),
      `--config.file=${promCfg}`,
      `--storage.agent.path=${promWal}`,
      `--web.listen-address=${LOOPBACK}:${p}`,
      '--log.level=error',
    ],
    promWal,
    { health: '/-/ready', port: promPort, env: ENV },
  );
  const vmWal = join(dir, 'vmagent-queue');
  const vm = await startEngine(
    'vmagent',
    (p) => [
      `-promscrape.config=${vmCfg}`,
      `-remoteWrite.url=${write}`,
      '-remoteWrite.label=forwarder=vmagent',
      `-remoteWrite.tmpDataPath=${vmWal}`,
      ...(useShipped
        ? ['-remoteWrite.maxDiskUsagePerURL=1GB', '-remoteWrite.queues=1', '-remoteWrite.sendTimeout=30s']
        : []),
      `-httpListenAddr=${LOOPBACK}:${p}`,
      '-loggerLevel=ERROR',
    ],
    vmWal,
    { port: vmPort, env: ENV },
  );
  return {
    source: useShipped
      ? `deploy/fleet/ configs and flags, scrape interval ${interval} s`
      : 'own minimal configs (deploy/fleet/ absent)',
    forwarders: [
      { name: 'prom-agent', engine: prom, wal: promWal, bytesMetric: 'prometheus_remote_storage_bytes_total' },
      { name: 'vmagent', engine: vm, wal: vmWal, bytesMetric: 'vmagent_remotewrite_bytes_sent_total' },
    ],
  };
}
