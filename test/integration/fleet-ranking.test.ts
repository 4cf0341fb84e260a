import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import type { Server as HttpServer } from 'node:http';
import { createServer } from 'node:https';
import type { Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { FastestList } from '../../src/ranking/fastest-list.js';
import type { FleetList } from '../../src/ranking/fleet-lists.js';
import { AgentProcess, tempConfig, vantage } from '../helpers/agent-process.js';
import { until } from '../helpers/fleet-forwarders.js';
import { startPrometheus } from '../helpers/prometheus-process.js';
import { catalogue, promqlMetricNames } from '../helpers/promql.js';
import { openListener, refusedListener } from '../helpers/tcp-servers.js';
import { makeWebCerts } from '../helpers/web-certs.js';

/**
 * Three agents probe loopback HTTPS endpoints whose first byte is held back in user space: fast
 * 5 ms, lossy 15 ms with every other connection cut at accept (success about 0.5: score about
 * 2 x 15 ms), mid 60 ms, slow 150 ms. a1 and a2 are carrier c1; b1 is carrier c2, whose path to
 * "fast" adds 100 ms (its config names a listener that waits 105 ms: a user-space stand-in for the
 * longer path). A real Prometheus scrapes them and runs deploy/prometheus/vantage-ranking-rules.yaml.
 */
const certs = makeWebCerts();
const dir = mkdtempSync(join(tmpdir(), 'vantage-fleet-ranking-'));
const servers: Array<Server | HttpServer> = [];
const agents: AgentProcess[] = [];
const configs: Array<ReturnType<typeof tempConfig>> = [];
let prometheus: ChildProcess | undefined;
let prometheusUrl = '';
const ports: Record<string, number> = {};

async function endpoint(name: string, delayMs: number, cutEvery = 0): Promise<void> {
  const server = createServer(
    { cert: readFileSync(certs.server.cert), key: readFileSync(certs.server.key) },
    (_, res) => {
      setTimeout(() => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n'), delayMs);
    },
  );
  let accepted = 0;
  if (cutEvery > 0) server.on('connection', (socket) => ++accepted % cutEvery === 0 && socket.destroy());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  servers.push(server);
  ports[name] = (server.address() as { port: number }).port;
}

function agentConfig(id: string, carrier: string, fastPort: number): string {
  const target = (name: string, port: number) => ({
    name,
    url: `https://127.0.0.1:${port}/`,
    checks: [{ kind: 'https', interval: '500ms', timeout: '400ms', ca_file: certs.ca }],
  });
  return stringify({
    agent: { id, region: 'r1', carrier, network_type: 'lab' },
    quality: { max_age: '30s', min_samples: 3 },
    server_sets: { api: { targets: ['fast', 'lossy', 'mid', 'slow'], margin: 0.1, hold: '2s' } },
    targets: [
      target('fast', fastPort),
      target('lossy', ports.lossy!),
      target('mid', ports.mid!),
      target('slow', ports.slow!),
    ],
  });
}

async function startAgent(id: string, carrier: string, fastPort: number): Promise<number> {
  const cfg = tempConfig(agentConfig(id, carrier, fastPort));
  configs.push(cfg);
  const agent = AgentProcess.start(['run', '-c', cfg.file, '--listen', '127.0.0.1:0']);
  agents.push(agent);
  return agent.port();
}

async function fastest(port: number, set = 'api'): Promise<{ status: number; body: FastestList }> {
  const res = await fetch(`http://127.0.0.1:${port}/fastest?set=${set}`);
  return { status: res.status, body: (await res.json()) as FastestList };
}

const order = (list: FastestList): string[] => list.endpoints.filter((e) => e.rank !== null).map((e) => e.target);

/** `vantage fleet ranking --json --out DIR` once the store lists r1/c1 from a1 and a2 in A_ORDER (45 s at most). */
function untilFleetList(store: string, out: string): ReturnType<typeof vantage> {
  return until(
    `the list of r1/c1 from ${store}`,
    async () => {
      const r = await vantage(['fleet', 'ranking', '--prometheus', store, '--json', '--out', out]);
      if (r.code !== 0) return undefined;
      const c1 = (JSON.parse(r.stdout) as { lists: FleetList[] }).lists.find((l) => l.carrier === 'c1')?.sets[0];
      return c1?.agents === 2 && c1.endpoints.map((e) => e.target).join() === A_ORDER.join() ? r : undefined;
    },
    45_000,
  );
}

/** A loopback port nobody listens on right now. */
async function freePort(): Promise<number> {
  const listener = await openListener();
  await listener.close();
  return listener.port;
}

/** The agent's list once its ranked targets are `expected`, in that order (30 s at most). */
function untilOrder(port: number, set: string, expected: readonly string[]): Promise<FastestList> {
  return until(
    `${set} ranked ${expected.join(', ')}`,
    async () => {
      const r = await fastest(port, set);
      return order(r.body).join() === expected.join() ? r.body : undefined;
    },
    30_000,
  );
}
const A_ORDER = ['fast', 'lossy', 'mid', 'slow'];
const B_ORDER = ['lossy', 'mid', 'fast', 'slow'];
const agentPorts: number[] = [];

beforeAll(async () => {
  await Promise.all([
    endpoint('fast', 5),
    endpoint('lossy', 15, 2),
    endpoint('mid', 60),
    endpoint('slow', 150),
    endpoint('fastViaC2', 105),
  ]);
  agentPorts.push(
    await startAgent('a1', 'c1', ports.fast!),
    await startAgent('a2', 'c1', ports.fast!),
    await startAgent('b1', 'c2', ports.fastViaC2!),
  );
  const config = join(dir, 'prometheus.yaml');
  writeFileSync(
    config,
    stringify({
      global: { scrape_interval: '1s', scrape_timeout: '900ms', evaluation_interval: '1s' },
      rule_files: [resolve('deploy/prometheus/vantage-ranking-rules.yaml')],
      scrape_configs: [{ job_name: 'vantage', static_configs: [{ targets: agentPorts.map((p) => `127.0.0.1:${p}`) }] }],
    }),
  );
  const started = await startPrometheus(config, join(dir, 'tsdb'));
  prometheus = started.process;
  prometheusUrl = started.url;
}, 30_000);

afterAll(async () => {
  for (const a of agents) a.kill();
  prometheus?.kill('SIGKILL');
  for (const s of servers) s.close();
  for (const c of configs) c.remove();
  rmSync(dir, { recursive: true, force: true });
  rmSync(certs.dir, { recursive: true, force: true });
});

describe('ranking rules (deploy/prometheus/vantage-ranking-rules.yaml)', () => {
  it('load (promtool check rules), pass their promtool tests, and read only metrics agents export', async () => {
    const promtool = async (args: string[]) => {
      const child = spawn('promtool', args, { cwd: resolve('deploy/prometheus'), stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      for (const stream of [child.stdout, child.stderr]) stream.on('data', (d: Buffer) => (out += String(d)));
      const [code] = (await once(child, 'close')) as [number | null];
      return { code, out };
    };
    expect(await promtool(['check', 'rules', 'vantage-ranking-rules.yaml'])).toMatchObject({ code: 0 });
    expect(await promtool(['test', 'rules', 'vantage-ranking-rules.test.yaml'])).toMatchObject({ code: 0 });
    const file = parse(readFileSync(resolve('deploy/prometheus/vantage-ranking-rules.yaml'), 'utf8')) as {
      groups: Array<{ rules: Array<{ expr: string }> }>;
    };
    const known = catalogue();
    const read = file.groups.flatMap((g) => g.rules.flatMap((r) => promqlMetricNames(r.expr)));
    expect(read.filter((name) => !known.has(name))).toEqual([]);
    expect(new Set(read)).toEqual(new Set(['vantage_endpoint_score_seconds', 'vantage_endpoint_leader_changes_total']));
  });
});

describe('fastest endpoint from one agent', () => {
  it('ranks by first byte + connect over the success rate; another carrier sees its own order', async () => {
    const [a1, , b1] = agentPorts as [number, number, number];
    const a = await untilOrder(a1, 'api', A_ORDER);
    expect(a).toMatchObject({ set: 'api', agent: 'a1', region: 'r1', carrier: 'c1', network_type: 'lab' });
    const byTarget = Object.fromEntries(a.endpoints.map((e) => [e.target, e]));
    expect(byTarget.fast).toMatchObject({ rank: 1, url: `https://127.0.0.1:${ports.fast}/`, addresses: ['127.0.0.1'] });
    // Every other connection the lossy server accepts is cut (three agents share it, so each sees
    // anywhere from a third to most of its runs fail): its score is its path time over that rate.
    expect(byTarget.lossy!.successRatio).toBeGreaterThan(0.2);
    expect(byTarget.lossy!.successRatio).toBeLessThan(0.95);
    expect(byTarget.slow!.scoreMs).toBeGreaterThanOrEqual(150);
    const b = await untilOrder(b1, 'api', B_ORDER);
    expect(b.carrier).toBe('c2');
    expect(await fastest(a1, 'nope')).toMatchObject({ status: 404, body: { sets: ['api'] } });
    const scrape = await (await fetch(`http://127.0.0.1:${a1}/metrics`)).text();
    expect(scrape).toMatch(/^vantage_endpoint_rank\{set="api",target="fast",.*\} 1$/m);
    expect(scrape).toMatch(/^vantage_endpoint_score_seconds\{set="api",target="slow",.*\} 0\.1[5-9]/m);
  }, 60_000);
});

describe('hysteresis with real traffic', () => {
  it('a challenger 20 % faster for 2 s stays second; a sustained one leads, no sooner than the hold', async () => {
    let movingDelayMs = 80;
    const fixed = createServer(
      { cert: readFileSync(certs.server.cert), key: readFileSync(certs.server.key) },
      (_, res) => setTimeout(() => res.writeHead(200).end(), 40),
    );
    const moving = createServer(
      { cert: readFileSync(certs.server.cert), key: readFileSync(certs.server.key) },
      (_, res) => setTimeout(() => res.writeHead(200).end(), movingDelayMs),
    );
    for (const s of [fixed, moving]) {
      s.listen(0, '127.0.0.1');
      await once(s, 'listening');
      servers.push(s);
    }
    const check = [{ kind: 'https', interval: '250ms', timeout: '200ms', ca_file: certs.ca }];
    const url = (s: Server) => `https://127.0.0.1:${(s.address() as { port: number }).port}/`;
    const cfg = tempConfig(
      stringify({
        agent: { id: 'h1', region: 'r9', carrier: 'c9' },
        // A short window, so the medians follow the servers within a couple of seconds.
        quality: { max_age: '3s', min_samples: 3 },
        server_sets: { pair: { targets: ['steady', 'moving'], margin: 0.2, hold: '6s' } },
        targets: [
          { name: 'steady', url: url(fixed), checks: check },
          { name: 'moving', url: url(moving), checks: check },
        ],
      }),
    );
    configs.push(cfg);
    const agent = AgentProcess.start(['run', '-c', cfg.file, '--listen', '127.0.0.1:0']);
    agents.push(agent);
    const port = await agent.port();
    const leaderChanges = () => agent.logs.filter((l) => l.event === 'leader_change' && l.set === 'pair');
    await untilOrder(port, 'pair', ['steady', 'moving']);
    const before = leaderChanges().length;
    // The blip: 5 ms for 2 s (well past the 20 % margin: 32 ms), then back to 80 ms.
    movingDelayMs = 5;
    await new Promise((r) => setTimeout(r, 2_000));
    movingDelayMs = 80;
    await new Promise((r) => setTimeout(r, 8_000));
    expect(leaderChanges()).toHaveLength(before);
    // Sustained: the lead changes, no sooner than the hold after the change began.
    movingDelayMs = 5;
    const changedAt = Date.now();
    const event = await agent.waitForLog((l) => l.event === 'leader_change' && l.to === 'moving', 30_000);
    expect(Date.parse(String(event.time)) - changedAt).toBeGreaterThanOrEqual(6_000);
    expect(event).toMatchObject({ set: 'pair', from: 'steady', to: 'moving', agent: { id: 'h1' } });
    expect(event.eventId).toMatch(/^[0-9a-f-]{36}$/);
  }, 60_000);
});

describe('vantage fleet ranking against a real Prometheus', () => {
  it('lists r1/c1 by the median of a1 and a2, leaves r1/c2 out (1 agent), writes the files', async () => {
    const out = join(dir, 'out');
    const run = await untilFleetList(prometheusUrl, out);
    const doc = JSON.parse(run.stdout) as { lists: FleetList[]; leftOut: unknown[]; minAgents: number };
    expect(doc.lists.map((l) => `${l.region}/${l.carrier}`)).toEqual(['r1/c1']);
    expect(doc.leftOut).toEqual([{ region: 'r1', carrier: 'c2', set: 'api', agents: 1 }]);
    expect(run.stderr).toContain('left out r1 / c2 set api: 1 agent, fewer than --min-agents 2');
    expect(readdirSync(out).sort()).toEqual(['index.json', 'r1--c1.json']);
    const file = JSON.parse(readFileSync(join(out, 'r1--c1.json'), 'utf8')) as FleetList;
    expect(file.schema).toBe('vantage.dynamic-server-list/v1');

    const withConfig = await vantage([
      'fleet',
      'ranking',
      '--prometheus',
      prometheusUrl,
      '--json',
      '-c',
      configs[0]!.file,
    ]);
    const first = (JSON.parse(withConfig.stdout) as { lists: FleetList[] }).lists[0]?.sets[0]?.endpoints[0];
    expect(first).toMatchObject({ target: 'fast', rank: 1, url: `https://127.0.0.1:${ports.fast}/` });

    const one = await until(
      'r1/c2 with --min-agents 1',
      async () => {
        const r = await vantage([
          'fleet',
          'ranking',
          '--prometheus',
          prometheusUrl,
          '--min-agents',
          '1',
          '--set',
          'api',
        ]);
        return r.code === 0 && r.stdout.includes('r1 / c2') ? r : undefined;
      },
      20_000,
    );
    expect(one.stdout).toMatch(/r1 \/ c2\n {2}api \(1 agent\): 1\. lossy [\d.]+ ms {2}2\. mid [\d.]+ ms {2}3\. fast/);
  }, 60_000);
});

describe('vantage fleet ranking against a real VictoriaMetrics', () => {
  const daemons: ChildProcess[] = [];
  afterAll(() => daemons.forEach((d) => d.kill('SIGKILL')));

  it('VictoriaMetrics scraping the agents and vmalert recording the rules give the same r1/c1 list', async () => {
    const [vmPort, vmalertPort] = await Promise.all([freePort(), freePort()]);
    const scrape = join(dir, 'vm-scrape.yaml');
    writeFileSync(
      scrape,
      stringify({
        global: { scrape_interval: '1s' },
        scrape_configs: [
          { job_name: 'vantage', static_configs: [{ targets: agentPorts.map((p) => `127.0.0.1:${p}`) }] },
        ],
      }),
    );
    const vm = `http://127.0.0.1:${vmPort}`;
    const start = (args: string[]): void => {
      const d = spawn(args[0]!, args.slice(1), { stdio: 'ignore' });
      d.on('error', (err) => console.error(`${args[0]} did not start (${err.message}): .ci/run installs it`));
      daemons.push(d);
    };
    start([
      'victoria-metrics',
      `-storageDataPath=${join(dir, 'vm')}`,
      `-httpListenAddr=127.0.0.1:${vmPort}`,
      `-promscrape.config=${scrape}`,
      '-search.latencyOffset=0s',
      '-retentionPeriod=1d',
    ]);
    start([
      'vmalert',
      `-rule=${resolve('deploy/prometheus/vantage-ranking-rules.yaml')}`,
      `-datasource.url=${vm}`,
      `-remoteWrite.url=${vm}`,
      '-evaluationInterval=1s',
      `-httpListenAddr=127.0.0.1:${vmalertPort}`,
    ]);
    const out = join(dir, 'vm-out');
    const run = await untilFleetList(vm, out);
    expect(run.stderr).toContain('left out r1 / c2 set api: 1 agent');
    expect(readdirSync(out).sort()).toEqual(['index.json', 'r1--c1.json']);
  }, 60_000);
});

describe('vantage fleet ranking: bad answers', () => {
  let garbage: HttpServer;
  let garbageUrl = '';
  let refused: Awaited<ReturnType<typeof refusedListener>>;
  afterAll(() => refused.close());
  beforeAll(async () => {
    refused = await refusedListener();
    garbage = createHttpServer((req, res) =>
      req.url?.startsWith('/html')
        ? res.writeHead(200, { 'content-type': 'text/html' }).end('<html>hello</html>')
        : res
            .writeHead(200, { 'content-type': 'application/json' })
            .end('{"status":"success","data":{"resultType":"matrix"}}'),
    );
    garbage.listen(0, '127.0.0.1');
    await once(garbage, 'listening');
    servers.push(garbage);
    garbageUrl = `http://127.0.0.1:${(garbage.address() as { port: number }).port}`;
  });

  it.each([
    ['unreachable', () => Promise.resolve(`http://127.0.0.1:${refused.port}`), 'cannot reach'],
    ['not JSON', () => Promise.resolve(`${garbageUrl}/html`), 'not JSON'],
    ['JSON but no instant vector', () => Promise.resolve(garbageUrl), 'did not answer a Prometheus instant vector'],
  ])('%s: exit 1, a clear error, no file written', async (_, url, message) => {
    const out = join(dir, `bad-${Math.random().toString(36).slice(2)}`);
    const r = await vantage(['fleet', 'ranking', '--prometheus', await url(), '--out', out, '--timeout', '2s']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(message);
    expect(existsSync(out)).toBe(false);
  });

  it('a set nobody ranks: exit 1, says which series is missing', async () => {
    const r = await vantage(['fleet', 'ranking', '--prometheus', prometheusUrl, '--set', 'nothing']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('has no set_region_carrier:vantage_endpoint_agents:count{set="nothing"} series');
  });

  it.each([
    [['fleet', 'ranking'], '--prometheus URL'],
    [['fleet', 'ranking', '--prometheus', 'http://x', '--set', 'a b'], 'is not a set name'],
    [['fleet', 'ranking', '--prometheus', 'http://x', '--min-agents', '0'], '--min-agents'],
    [['fleet', 'rank', '--prometheus', 'http://x'], 'the only fleet command is "ranking"'],
  ])('usage %j: exit 2', async (args, message) => {
    const r = await vantage(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });
});
