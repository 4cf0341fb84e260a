import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { BIN } from './agent-process.js';
import type { Daemon, FleetNet } from './fleet-net.js';

/**
 * What the fleet tests share beyond the network: agents and forwarders started as deployed, the
 * shipped vmagent flags, polling, and reading a counter out of a text exposition.
 */

/**
 * vmagent's `-remoteWrite.*` flags as shipped (the systemd unit's ExecStart, the one copy the test
 * can run), minus the ones named in `except` (vmagent's per-URL flags are arrays: a second
 * `-remoteWrite.sendTimeout` would not override the first, so a test drops it and sets its own).
 */
export function shippedVmagentFlags(except: readonly string[]): string[] {
  const unit = readFileSync('deploy/fleet/systemd/vantage-forwarder.service', 'utf8');
  const exec = /^ExecStart=((?:.*\\\n)*.*)$/m.exec(unit);
  if (!exec) throw new Error('no ExecStart in deploy/fleet/systemd/vantage-forwarder.service');
  return exec[1]!
    .replace(/\\\n/g, ' ')
    .split(/\s+/)
    .filter((arg) => arg.startsWith('-remoteWrite.'))
    .filter((arg) => !['url', 'tmpDataPath', ...except].includes(arg.slice('-remoteWrite.'.length).split('=')[0]!));
}

export async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Sum of a metric's samples in a text exposition (optionally only lines matching `filter`). */
export function metric(body: string, name: string, filter?: RegExp): number {
  let sum = 0;
  for (const line of body.split('\n')) {
    const next = line.slice(name.length, name.length + 1);
    if (!line.startsWith(name) || (next !== '{' && next !== ' ')) continue;
    if (filter && !filter.test(line)) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

export interface Identity {
  readonly id: string;
  readonly region: string;
  readonly carrier: string;
}

export const AGENT_PORT = 9477;

interface ScrapeJob {
  job_name: string;
  scrape_interval?: string;
  scrape_timeout?: string;
}
interface PromAgentConfig {
  global: Record<string, unknown>;
  scrape_configs: ScrapeJob[];
  remote_write: Array<Record<string, unknown> & { queue_config: Record<string, unknown> }>;
}

/**
 * Vantage agents and their forwarders in a fleet network's agent namespaces: agent i in
 * `net.agents[i]`, with `identities[i]`, checking two local TCP ports every second. The forwarders
 * run deploy/fleet's configs (or FLEET_DEPLOY_DIR's) with 1 s scrapes and short retries, the
 * identity in the environment as in production.
 */
export class FleetSites {
  constructor(
    private readonly net: FleetNet,
    private readonly dir: string,
    private readonly identities: readonly Identity[],
    private readonly fleetDir = 'deploy/fleet',
  ) {}

  /** The agent: target `api` (port 1, refused: down) and `web` (its own port: up). */
  startAgent(i: number): Daemon {
    const a = this.identities[i]!;
    const cfg = join(this.dir, `agent-${a.id}.yaml`);
    writeFileSync(
      cfg,
      `agent: {id: ${a.id}, region: ${a.region}, carrier: ${a.carrier}, network_type: lab}
targets:
  - {name: api, host: 127.0.0.1, checks: [{kind: tcp, port: 1, interval: 1s, timeout: 500ms}]}
  - {name: web, host: 127.0.0.1, checks: [{kind: tcp, port: ${AGENT_PORT}, interval: 1s, timeout: 500ms}]}
`,
    );
    return this.net.spawn(
      this.net.agents[i]!.ns,
      [process.execPath, BIN, 'run', '-c', cfg, '--listen', `0.0.0.0:${AGENT_PORT}`],
      `agent ${a.id}`,
    );
  }

  /** The forwarders' configs; `remoteWrite` is merged into the Prometheus agent's remote_write (url, auth, TLS). */
  configs(remoteWrite: Record<string, unknown>): { prom: string; vm: string } {
    const prom = parse(readFileSync(join(this.fleetDir, 'prometheus-agent.yaml'), 'utf8')) as PromAgentConfig;
    prom.global.scrape_interval = '1s';
    prom.global.scrape_timeout = '900ms';
    const rw = prom.remote_write[0]!;
    Object.assign(rw, { remote_timeout: '5s' }, remoteWrite);
    Object.assign(rw.queue_config, { batch_send_deadline: '1s', min_backoff: '100ms', max_backoff: '1s' });
    const vm = parse(readFileSync(join(this.fleetDir, 'vmagent-scrape.yaml'), 'utf8')) as {
      scrape_configs: ScrapeJob[];
    };
    for (const job of [...prom.scrape_configs, ...vm.scrape_configs]) {
      job.scrape_interval = '1s';
      job.scrape_timeout = '900ms';
    }
    return { prom: stringify(prom), vm: stringify(vm) };
  }

  startPromAgent(i: number, name: string, config: string, port: number): Daemon {
    const d = this.workDir(name, 'prometheus.yaml', config);
    return this.net.spawn(
      this.net.agents[i]!.ns,
      [
        ...this.env(i),
        'prometheus',
        '--enable-feature=agent,expand-external-labels',
        `--config.file=${join(d, 'prometheus.yaml')}`,
        `--storage.agent.path=${join(d, 'wal')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      name,
    );
  }

  /** vmagent with the shipped flags; a restart under the same name keeps its queue. */
  startVmAgent(i: number, name: string, config: string, url: string, port: number, extra: string[] = []): Daemon {
    const d = this.workDir(name, 'scrape.yaml', config);
    return this.net.spawn(
      this.net.agents[i]!.ns,
      [
        ...this.env(i),
        'vmagent',
        `-promscrape.config=${join(d, 'scrape.yaml')}`,
        `-remoteWrite.url=${url}`,
        `-remoteWrite.tmpDataPath=${join(d, 'queue')}`,
        ...shippedVmagentFlags(['sendTimeout']),
        // deploy/fleet says 30s; 5s here, as the Prometheus agent's remote_timeout, to keep the tests short.
        '-remoteWrite.sendTimeout=5s',
        `-httpListenAddr=127.0.0.1:${port}`,
        ...extra,
      ],
      name,
    );
  }

  /** The identity variables deploy/fleet/vantage.env sets, for `env` in front of a forwarder. */
  private env(i: number): string[] {
    const a = this.identities[i]!;
    return [
      'env',
      `VANTAGE_AGENT_ID=${a.id}`,
      `VANTAGE_REGION=${a.region}`,
      `VANTAGE_CARRIER=${a.carrier}`,
      'VANTAGE_NETWORK_TYPE=lab',
      `VANTAGE_INSTANCE=${this.net.agents[i]!.address}:${AGENT_PORT}`,
    ];
  }

  private workDir(name: string, file: string, content: string): string {
    const d = join(this.dir, name);
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, file), content);
    return d;
  }
}

/** A central Prometheus taking remote_write, its data under `dir/name`. */
export function prometheusReceiver(
  net: FleetNet,
  dir: string,
  name: string,
  config: string,
  port: number,
  extra: string[] = [],
): Daemon {
  return net.spawn(
    net.central,
    [
      'prometheus',
      '--web.enable-remote-write-receiver',
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, name)}`,
      `--web.listen-address=0.0.0.0:${port}`,
      ...extra,
    ],
    name,
  );
}

/** Central VictoriaMetrics single-node, its data under `dir/name`; queries see the newest samples at once. */
export function victoriaMetrics(
  net: FleetNet,
  dir: string,
  name: string,
  listen: string,
  extra: string[] = [],
): Daemon {
  return net.spawn(
    net.central,
    [
      'victoria-metrics',
      `-storageDataPath=${join(dir, name)}`,
      `-httpListenAddr=${listen}`,
      '-search.latencyOffset=0s',
      '-retentionPeriod=1d',
      ...extra,
    ],
    name,
  );
}

/** Tears the network down (its processes with it), then removes the test's directories. */
export async function teardown(net: FleetNet | undefined, dirs: readonly string[]): Promise<void> {
  try {
    await net?.down();
  } finally {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}
