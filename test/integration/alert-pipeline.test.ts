import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { AgentProcess, tempConfig } from '../helpers/agent-process.js';
import { openListener, refusedListener } from '../helpers/tcp-servers.js';
import type { Listener } from '../helpers/tcp-servers.js';
import { run } from '../lab/shell.js';

/**
 * Agents -> a real Prometheus (scraping them, evaluating deploy/prometheus/vantage-rules.yaml) ->
 * a real Alertmanager (deploy/alertmanager/alertmanager.example.yaml) -> a webhook. Three agents
 * on three carriers: all fail "api" (the endpoint is down), only one fails "web" (its carrier).
 * The rules' `for` and the routing timers are scaled from minutes to seconds, keeping their order.
 */

interface Notification {
  path: string;
  body: { alerts: Array<{ status: string; labels: Record<string, string>; annotations: Record<string, string> }> };
}
interface RuleFile {
  groups: Array<{ rules: Array<{ for?: string }> }>;
}

const dir = mkdtempSync(join(tmpdir(), 'vantage-alerts-'));
const children: ChildProcess[] = [];
const agents: AgentProcess[] = [];
const configs: Array<{ remove(): void }> = [];
const received: Notification[] = [];
let webhook: Server;
let open: Listener;
let refused: Listener;
let prometheusPort: number;
let amPort: number;

async function freePort(): Promise<number> {
  const l = await openListener();
  await l.close();
  return l.port;
}

function daemon(argv: string[]): ChildProcess {
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (d: Buffer) => (log = (log + String(d)).slice(-4000)));
  child.on('exit', (code) => {
    if (code !== null && code !== 0) console.error(`${argv[0]} exited ${code}:\n${log}`);
  });
  // A missing binary is an 'error' event; unhandled, it would take the test worker down.
  child.on('error', (err) =>
    console.error(`${argv[0]} did not start (${err.message}): .ci/run installs prometheus and prometheus-alertmanager`),
  );
  children.push(child);
  return child;
}

/** Minutes to seconds: "3m" -> "3s". */
const scaled = (d: string): string => {
  const m = /^(\d+)m$/.exec(d);
  if (!m) throw new Error(`unexpected duration ${d} in the rules`);
  return `${m[1]}s`;
};

/** The alerts named `alertname` firing in the test's Prometheus, once there are `count` of them. */
function firingInPrometheus(
  alertname: string,
  count: number,
  timeoutMs: number,
): Promise<Array<{ state: string; labels: Record<string, string> }>> {
  return until(
    `${alertname} firing in Prometheus`,
    async () => {
      const res = await fetch(`http://127.0.0.1:${prometheusPort}/api/v1/alerts`);
      const { data } = (await res.json()) as {
        data: { alerts: Array<{ state: string; labels: Record<string, string> }> };
      };
      const firing = data.alerts.filter((a) => a.labels.alertname === alertname && a.state === 'firing');
      return firing.length === count ? firing : undefined;
    },
    timeoutMs,
  );
}

async function until<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(
        `timed out waiting for ${what}; notifications so far: ` +
          `${JSON.stringify(received.map((n) => [n.path, n.body.alerts.map((a) => a.labels)]))}`,
      );
    await new Promise((r) => setTimeout(r, 250));
  }
}

beforeAll(async () => {
  webhook = createServer((req, res) => {
    let text = '';
    req.on('data', (d: Buffer) => (text += String(d)));
    req.on('end', () => {
      received.push({ path: req.url ?? '', body: JSON.parse(text) as Notification['body'] });
      res.end();
    });
  });
  await new Promise<void>((r) => webhook.listen(0, '127.0.0.1', r));
  const hook = `http://127.0.0.1:${(webhook.address() as AddressInfo).port}`;

  open = await openListener();
  refused = await refusedListener();
  const agentPorts: number[] = [];
  const carriers = [
    ['a', 'eu', 'red', refused.port],
    ['b', 'us', 'blue', open.port],
    ['c', 'ap', 'green', open.port],
  ] as const;
  for (const [id, region, carrier, webPort] of carriers) {
    const cfg = tempConfig(`agent: {id: ${id}, region: ${region}, carrier: ${carrier}, network_type: lab}
targets:
  - {name: api, host: 127.0.0.1, checks: [{kind: tcp, port: ${refused.port}, interval: 1s, timeout: 500ms}]}
  - {name: web, host: 127.0.0.1, checks: [{kind: tcp, port: ${webPort}, interval: 1s, timeout: 500ms}]}
`);
    configs.push(cfg);
    const agent = AgentProcess.start(['run', '-c', cfg.file, '--listen', '127.0.0.1:0']);
    agents.push(agent);
    agentPorts.push(await agent.port());
  }

  const rules = parse(readFileSync('deploy/prometheus/vantage-rules.yaml', 'utf8')) as RuleFile;
  for (const rule of rules.groups.flatMap((g) => g.rules)) if (rule.for) rule.for = scaled(rule.for);
  writeFileSync(join(dir, 'rules.yaml'), stringify(rules));

  const am = parse(readFileSync('deploy/alertmanager/alertmanager.example.yaml', 'utf8')) as {
    route: Record<string, unknown> & { routes: Array<Record<string, unknown>> };
    receivers: Array<{ webhook_configs: Array<{ url: string }> }>;
  };
  for (const route of [am.route, ...am.route.routes]) {
    for (const key of ['group_wait', 'group_interval', 'repeat_interval'])
      if (typeof route[key] === 'string') route[key] = '1s';
  }
  for (const receiver of am.receivers)
    for (const w of receiver.webhook_configs) w.url = `${hook}${new URL(w.url).pathname}`;
  writeFileSync(join(dir, 'alertmanager.yaml'), stringify(am));
  amPort = await freePort();
  daemon([
    'prometheus-alertmanager',
    `--config.file=${join(dir, 'alertmanager.yaml')}`,
    `--storage.path=${join(dir, 'am')}`,
    `--web.listen-address=127.0.0.1:${amPort}`,
    '--cluster.listen-address=',
  ]);

  writeFileSync(
    join(dir, 'prometheus.yaml'),
    stringify({
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      rule_files: [join(dir, 'rules.yaml')],
      alerting: { alertmanagers: [{ static_configs: [{ targets: [`127.0.0.1:${amPort}`] }] }] },
      scrape_configs: [{ job_name: 'vantage', static_configs: [{ targets: agentPorts.map((p) => `127.0.0.1:${p}`) }] }],
    }),
  );
  prometheusPort = await freePort();
  daemon([
    'prometheus',
    `--config.file=${join(dir, 'prometheus.yaml')}`,
    `--storage.tsdb.path=${join(dir, 'tsdb')}`,
    `--web.listen-address=127.0.0.1:${prometheusPort}`,
  ]);
}, 30_000);

afterAll(async () => {
  for (const a of agents) a.kill();
  for (const c of children) c.kill('SIGKILL');
  for (const c of configs) c.remove();
  await new Promise((r) => webhook?.close(r));
  await Promise.all([open?.close(), refused?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

const alertsIn = (path: string) => received.filter((n) => n.path === path).flatMap((n) => n.body.alerts);

describe('alert pipeline: agents, Prometheus, Alertmanager', () => {
  it('ships an Alertmanager config that amtool accepts', async () => {
    const r = await run(['amtool', 'check-config', resolve('deploy/alertmanager/alertmanager.example.yaml')]);
    expect(r.stdout).toContain('SUCCESS');
    expect(r.stdout).toContain('6 inhibit rules');
    expect(r.code).toBe(0);
  });

  it('pages an endpoint down everywhere, tickets the carrier cut off from web, inhibits per-agent alerts', async () => {
    const everywhere = await until(
      'the page for api',
      () => alertsIn('/page').find((a) => a.labels.alertname === 'VantageTargetDownEverywhere'),
      40_000,
    );
    expect(everywhere).toMatchObject({
      status: 'firing',
      labels: { target: 'api', kind: 'tcp', severity: 'critical' },
      annotations: { summary: 'api (tcp) fails from 100% of vantage points' },
    });
    const local = await until(
      'the ticket for web',
      () => alertsIn('/ticket').find((a) => a.labels.alertname === 'VantageTargetDownLocally'),
      40_000,
    );
    expect(local).toMatchObject({
      labels: { target: 'web', region: 'eu', carrier: 'red', severity: 'warning' },
      annotations: { summary: 'web (tcp) fails from eu on red only' },
    });

    // Prometheus fires the per-agent alerts (four: api from a, b, c; web from a) ...
    const firing = await firingInPrometheus('VantageTargetUnreachable', 4, 20_000);
    expect(firing.map((a) => `${a.labels.target}@${a.labels.agent}`).sort()).toEqual([
      'api@a',
      'api@b',
      'api@c',
      'web@a',
    ]);
    // ... and Alertmanager holds them back: the endpoint (or the carrier) alert says it all.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(
      received.flatMap((n) => n.body.alerts).filter((a) => a.labels.alertname === 'VantageTargetUnreachable'),
    ).toEqual([]);
    expect(
      received
        .flatMap((n) => n.body.alerts)
        .filter((a) => a.labels.alertname === 'VantageTargetDownLocally' && a.labels.target === 'api'),
    ).toEqual([]);
  }, 90_000);

  // Agent a reaches none of its targets: the quality model says its own network is Offline. That
  // is a ticket; its per-target quality alerts (and b's and c's for api, down everywhere) are not.
  it("tickets agent a's own network Offline and holds back the per-target quality alerts", async () => {
    const offline = await until(
      'the ticket for agent a offline',
      () => alertsIn('/ticket').find((a) => a.labels.alertname === 'VantageAgentNetworkOffline'),
      40_000,
    );
    expect(offline).toMatchObject({ labels: { agent: 'a', region: 'eu', carrier: 'red', state: 'offline' } });
    const weak = await firingInPrometheus('VantageTargetNetworkWeak', 4, 40_000);
    expect(weak.map((a) => `${a.labels.target}@${a.labels.agent}`).sort()).toEqual([
      'api@a',
      'api@b',
      'api@c',
      'web@a',
    ]);
    await new Promise((r) => setTimeout(r, 3_000));
    expect(
      received.flatMap((n) => n.body.alerts).filter((a) => a.labels.alertname === 'VantageTargetNetworkWeak'),
    ).toEqual([]);
    // The agent rule on its own: an alert of a about a target nothing else covers is held by it.
    const at = (path: string, init?: RequestInit) => fetch(`http://127.0.0.1:${amPort}/api/v2/${path}`, init);
    const alone = { alertname: 'VantageHttpsSlow', agent: 'a', region: 'eu', carrier: 'red', target: 'shop' };
    await at('alerts', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ labels: { ...alone, severity: 'warning' } }]),
    });
    type Held = {
      fingerprint: string;
      labels: Record<string, string>;
      status: { state: string; inhibitedBy: string[] };
    };
    const held = await until(
      'the posted alert held by the agent rule',
      async () => {
        const all = (await (await at('alerts?inhibited=true')).json()) as Held[];
        const source = all.find((a) => a.labels.alertname === 'VantageAgentNetworkOffline');
        const shop = all.find((a) => a.labels.target === 'shop');
        return source && shop?.status.state === 'suppressed' ? { source, shop } : undefined;
      },
      10_000,
    );
    expect(held.shop.status.inhibitedBy).toEqual([held.source.fingerprint]);
    // b and c reach web: their own networks are not to blame.
    expect(
      received
        .flatMap((n) => n.body.alerts)
        .filter((a) => a.labels.alertname?.startsWith('VantageAgentNetwork') && a.labels.agent !== 'a'),
    ).toEqual([]);
  }, 90_000);
});
