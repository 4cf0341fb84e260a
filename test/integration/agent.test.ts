import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AgentProcess, tempConfig, vantage } from '../helpers/agent-process.js';
import { run as runCommand } from '../lab/shell.js';
import { blackholeListener, openListener, refusedListener } from '../helpers/tcp-servers.js';
import type { Listener } from '../helpers/tcp-servers.js';

let open: Listener;
let blackhole: Listener;
let refused: Listener;
let refusedForEcho: Listener;
let closedPort: number;
let refusedPortForEcho: number;
const agents: AgentProcess[] = [];
const configs: Array<{ remove(): void }> = [];

beforeAll(async () => {
  [open, blackhole, refused, refusedForEcho] = await Promise.all([
    openListener(),
    blackholeListener(),
    refusedListener(),
    refusedListener(),
  ]);
  closedPort = refused.port;
  refusedPortForEcho = refusedForEcho.port;
});
afterEach(() => {
  for (const a of agents.splice(0)) a.kill();
  for (const c of configs.splice(0)) c.remove();
});
afterAll(async () => {
  await Promise.all([open?.close(), blackhole?.close(), refused?.close(), refusedForEcho?.close()]);
});

const identity = `agent:
  id: agent-7
  region: \${TEST_REGION}
  carrier: test-carrier
  network_type: lab
`;

function target(name: string, port: number, extra = ''): string {
  return `  - name: ${name}
    host: 127.0.0.1
    checks: [{kind: tcp, port: ${port}, interval: 1s, timeout: 500ms${extra}}]
`;
}

function startAgent(text: string, args: string[] = []): { agent: AgentProcess; cfg: ReturnType<typeof tempConfig> } {
  const cfg = tempConfig(text);
  configs.push(cfg);
  const agent = AgentProcess.start(['run', '-c', cfg.file, '--listen', '127.0.0.1:0', ...args], {
    TEST_REGION: 'eu-test-1',
  });
  agents.push(agent);
  return { agent, cfg };
}

const ids = 'agent="agent-7",region="eu-test-1",carrier="test-carrier",network_type="lab"';

function sample(body: string, prefix: string): number | undefined {
  const line = body.split('\n').find((l) => l.startsWith(prefix));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('vantage run', () => {
  it('schedules checks and serves their series with agent labels, in both exposition formats', async () => {
    const { agent } = startAgent(`${identity}targets:\n${target('up', open.port)}${target('down', closedPort)}`);
    const body = await agent.waitForMetrics(
      (b) => b.includes('probe_success{check="up-tcp"') && b.includes('probe_success{check="down-tcp"'),
    );
    expect(sample(body, `probe_success{check="up-tcp",kind="tcp",target="up",ip="127.0.0.1",${ids}}`)).toBe(1);
    expect(sample(body, `probe_success{check="down-tcp",kind="tcp",target="down",ip="127.0.0.1",${ids}}`)).toBe(0);
    expect(
      sample(
        body,
        'vantage_check_failures_total{check="down-tcp",kind="tcp",target="down",ip="127.0.0.1",' +
          `code="TCP_REFUSED",${ids}}`,
      ),
    ).toBeGreaterThanOrEqual(1);
    expect(body).toMatch(
      new RegExp(
        'probe_tcp_duration_seconds\\{check="up-tcp",kind="tcp",target="up",ip="127.0.0.1",' +
          `phase="connect",${ids}\\} 0\\.\\d+`,
      ),
    );
    expect(sample(body, `vantage_checks_configured{kind="tcp",${ids}}`)).toBe(2);
    expect(sample(body, `vantage_config_last_reload_successful{${ids}}`)).toBe(1);
    expect(body).toMatch(/^process_cpu_user_seconds_total\{agent="agent-7"/m);

    const problem = await agent.waitForLog((l) => l.event === 'problem');
    expect(problem).toMatchObject({
      level: 'warn',
      check: 'down-tcp',
      code: 'TCP_REFUSED',
      ip: '127.0.0.1',
      agent: { id: 'agent-7', region: 'eu-test-1' },
    });
    expect(problem.eventId).toEqual(expect.any(String));

    const om = await agent.scrape('application/openmetrics-text; version=1.0.0');
    expect(om).toContain(`probe_success{check="up-tcp",kind="tcp",target="up",ip="127.0.0.1",${ids}} 1`);
    expect(om.trimEnd().endsWith('# EOF')).toBe(true);

    const port = await agent.port();
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${port}/nope`)).status).toBe(404);
  });

  it('keeps the last good config when SIGHUP brings a broken file, and says why', async () => {
    const { agent, cfg } = startAgent(`${identity}targets:\n${target('up', open.port)}`);
    await agent.waitForMetrics((b) => b.includes('probe_success{check="up-tcp"'));
    cfg.write(`${identity}targets:\n  - name: up\n    host: 127.0.0.1\n    checks: [{kind: tcp, port: nope}]\n`);
    agent.child.kill('SIGHUP');
    const rejected = await agent.waitForLog((l) => l.event === 'config_rejected');
    expect(rejected.problems).toEqual([
      expect.stringMatching(
        /vantage\.yaml:9:32: targets\[0\]\.checks\[0\]\.port: Invalid input: expected number, received string/,
      ),
    ]);
    const body = await agent.waitForMetrics((b) => b.includes(`vantage_config_last_reload_successful{${ids}} 0`));
    expect(sample(body, `vantage_config_reloads_total{result="failure",${ids}}`)).toBe(1);
    // The old config keeps running: the check's run counter keeps going up.
    const runsBefore = sample(body, `vantage_check_runs_total{check="up-tcp"`) ?? 0;
    const later = await agent.waitForMetrics(
      (b) => (sample(b, `vantage_check_runs_total{check="up-tcp"`) ?? 0) > runsBefore,
      5_000,
    );
    expect(sample(later, `probe_success{check="up-tcp"`)).toBe(1);
  });

  it('reloads on file change: removed checks lose their series, unchanged ones keep counting', async () => {
    const { agent, cfg } = startAgent(`${identity}targets:\n${target('keep', open.port)}${target('drop', closedPort)}`);
    const runsOfKeep = (b: string) => sample(b, 'vantage_check_runs_total{check="keep-tcp"') ?? 0;
    // Three runs in, a restarted check (counter back to 1 or 2) is told apart from a kept one.
    const first = await agent.waitForMetrics(
      (b) => runsOfKeep(b) >= 3 && b.includes('probe_success{check="drop-tcp"'),
      10_000,
    );
    const keepRuns = runsOfKeep(first);
    cfg.write(`${identity}targets:\n${target('keep', open.port)}${target('added', open.port)}`);
    const after = await agent.waitForMetrics(
      (b) => b.includes('probe_success{check="added-tcp"') && !b.includes('target="drop"'),
      8_000,
    );
    expect(after).not.toContain('check="drop-tcp"');
    expect(runsOfKeep(after)).toBeGreaterThanOrEqual(keepRuns);
    expect(sample(after, `vantage_checks_configured{kind="tcp",${ids}}`)).toBe(2);
    expect(agent.logs.some((l) => l.msg === 'config reloaded')).toBe(true);
  });

  it('exits 0 on SIGTERM within the shutdown deadline, cancelling a hanging run', async () => {
    const { agent } = startAgent(
      `${identity}targets:
  - name: hang
    host: 127.0.0.1
    checks: [{kind: tcp, port: ${blackhole.port}, interval: 10s, timeout: 9s}]
`,
      ['--shutdown-timeout', '2s'],
    );
    await agent.port();
    // Wait until the run is in flight (its slot is within 10 s of start).
    await agent.waitForMetrics((b) => /vantage_runs_in_flight\{[^}]*\} 1/.test(b), 12_000);
    const sent = Date.now();
    agent.child.kill('SIGTERM');
    expect(await agent.waitForExit(5_000)).toBe(0);
    expect(Date.now() - sent).toBeLessThan(2_500);
    expect(agent.logs.find((l) => l.msg === 'stopped')).toMatchObject({ clean: true });
    expect(agent.logs.some((l) => l.event === 'problem')).toBe(false);
  }, 30_000);

  it('hands each event (problem, quality change) to the file and HTTP sinks once, with the logged id', async () => {
    const posted: Array<Record<string, unknown>> = [];
    const collector = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        posted.push(...(JSON.parse(Buffer.concat(chunks).toString()) as Array<Record<string, unknown>>));
        res.writeHead(204).end();
      });
    });
    collector.listen(0, '127.0.0.1');
    await once(collector, 'listening');
    const dir = mkdtempSync(join(tmpdir(), 'vantage-sinks-'));
    try {
      const url = `http://127.0.0.1:${(collector.address() as AddressInfo).port}/events`;
      const sinks =
        `events:\n  sinks:\n    - {type: file, path: ${dir}/events.jsonl}\n    - {type: http, url: ` +
        `"${url}", flush_interval: 200ms}\n`;
      const { agent } = startAgent(`${identity}${sinks}targets:\n${target('down', closedPort)}`);
      const problem = await agent.waitForLog((l) => l.event === 'problem');
      const deadline = Date.now() + 5_000;
      while (!posted.some((e) => e.eventId === problem.eventId) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      agent.child.kill('SIGTERM');
      expect(await agent.waitForExit(5_000)).toBe(0);

      const filed = readFileSync(join(dir, 'events.jsonl'), 'utf8')
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      // Every event the log has (problems, network-quality changes) is filed once, in the log's order.
      const logged = agent.logs.filter((l) => typeof l.eventId === 'string').map((l) => l.eventId);
      expect(logged).toContain(problem.eventId);
      expect(filed.map((e) => e.eventId)).toEqual(logged);
      expect(filed.find((e) => e.event === 'problem')).toMatchObject({
        eventId: problem.eventId,
        check: 'down-tcp',
        code: 'TCP_REFUSED',
        ip: '127.0.0.1',
      });
      // Shutdown flushes the HTTP queue: every logged event reached the collector exactly once.
      expect(posted.map((e) => e.eventId).sort()).toEqual([...logged].sort());
    } finally {
      collector.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it('re-asks the egress echo service: info metric, change counter and an event when the address moves', async () => {
    let address = '198.18.0.5';
    const echo = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end(`${address}\n`));
    echo.listen(0, '127.0.0.1');
    await once(echo, 'listening');
    try {
      const url = `http://127.0.0.1:${(echo.address() as AddressInfo).port}/`;
      const egress = `egress:\n  urls: ["http://127.0.0.1:${refusedPortForEcho}/", "${url}"]\n  interval: 300ms\n`;
      const { agent } = startAgent(`${identity}${egress}targets:\n${target('up', open.port)}`);
      let body = await agent.waitForMetrics((b) => b.includes('vantage_egress_ip_info{address="198.18.0.5"'));
      expect(sample(body, `vantage_egress_ip_changes_total{${ids}}`)).toBe(0);
      address = '2001:db8::7';
      body = await agent.waitForMetrics((b) => b.includes('vantage_egress_ip_info{address="2001:db8::7"'));
      expect(body).not.toContain('address="198.18.0.5"');
      expect(sample(body, `vantage_egress_ip_changes_total{${ids}}`)).toBe(1);
      expect(sample(body, `vantage_egress_ip_lookups_total{result="success",${ids}}`)).toBeGreaterThanOrEqual(2);
      const change = await agent.waitForLog((l) => l.event === 'egress_change');
      expect(change).toMatchObject({ previous: '198.18.0.5', current: '2001:db8::7', agent: { id: 'agent-7' } });
      expect((change.answers as Array<{ error: string | null }>)[0]!.error).toMatch(/ECONNREFUSED/);
    } finally {
      echo.close();
    }
  }, 30_000);

  it('serves /diagnose for configured targets only, one report at a time, and only when enabled', async () => {
    const endpoint = 'diagnose_endpoint:\n  enabled: true\n  min_interval: 60s\n  count: 2\n';
    const { agent } = startAgent(`${identity}${endpoint}targets:\n${target('up', open.port)}`);
    const port = await agent.port();
    const base = `http://127.0.0.1:${port}/diagnose`;
    const unknown = await fetch(`${base}?target=198.18.0.1`);
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toMatch(/no target named "198.18.0.1"/);
    expect((await fetch(base)).status).toBe(400);

    const first = fetch(`${base}?target=up&format=json`);
    await agent.waitForLog((l) => l.msg === 'diagnose report requested');
    const second = await fetch(`${base}?target=up`);
    expect(second.status).toBe(429);
    expect(second.headers.get('retry-after')).toBe('60');
    const firstRes = await first;
    expect(firstRes.status).toBe(200);
    const report = (await firstRes.json()) as {
      agent: { region: string };
      targets: Array<{ target: string; verdict: string; ping: Array<{ ip: string; ok: boolean }> }>;
    };
    expect(report.agent.region).toBe('eu-test-1');
    expect(report.targets).toHaveLength(1);
    expect(report.targets[0]).toMatchObject({
      target: '127.0.0.1',
      ping: [{ ip: '127.0.0.1', ok: process.getuid?.() === 0 }],
    });
    const again = await fetch(`${base}?target=up`);
    expect(again.status).toBe(429);
    expect(Number(again.headers.get('retry-after'))).toBeGreaterThan(50);

    const { agent: off } = startAgent(`${identity}targets:\n${target('up', open.port)}`);
    const disabled = await fetch(`http://127.0.0.1:${await off.port()}/diagnose?target=up`);
    expect(disabled.status).toBe(404);
    expect(await disabled.text()).toMatch(/diagnose_endpoint.enabled/);
  }, 30_000);

  it('exits 2 with located diagnostics when the config is bad at start', async () => {
    const cfg = tempConfig(`targets: [{name: x, host: h, checks: [{kind: tcp}]}]\n`);
    configs.push(cfg);
    const { code, stderr } = await vantage(['run', '-c', cfg.file, '--listen', '127.0.0.1:0']);
    expect(code).toBe(2);
    expect(stderr).toBe(
      `${cfg.file}:1:39: targets[0].checks[0]: tcp check on target "x" needs a port (set port:, or give the target ` +
        `a url:)\n`,
    );
  });
});

/**
 * The shipped config probes public AWS endpoints, and tests may only send traffic to loopback or
 * to namespaces they made. So `npm start` runs in a fresh network namespace with nothing but
 * loopback: its lookups and connects fail at once inside it, and the test scrapes it there.
 */
describe.skipIf(process.getuid?.() !== 0)('npm start', () => {
  const ns = `vantage-start-${process.pid}`;
  beforeAll(async () => {
    await runCommand(['ip', 'netns', 'add', ns]);
    await runCommand(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  });
  afterAll(async () => {
    await runCommand(['ip', 'netns', 'delete', ns]);
  });

  // How fast it starts is bench/startup.mjs's business; 15 s only catches a hang.
  it('serves /metrics with agent labels on the shipped default config', async () => {
    const started = Date.now();
    const agent = AgentProcess.start(
      ['netns', 'exec', ns, 'npm', 'start', '--silent'],
      { VANTAGE_LISTEN: '127.0.0.1:0', VANTAGE_REGION: 'ci-region' },
      ['ip'],
    );
    agents.push(agent);
    const port = await agent.port();
    let body = '';
    while (!body.includes('region="ci-region"') && Date.now() - started < 15_000) {
      body = (await runCommand(['ip', 'netns', 'exec', ns, 'curl', '-s', `http://127.0.0.1:${port}/metrics`])).stdout;
      if (!body.includes('region="ci-region"')) await new Promise((r) => setTimeout(r, 50));
    }
    expect(body).toMatch(/vantage_checks_configured\{kind="tcp",agent="[^"]+",region="ci-region"/);
    // The shipped checks fail here (no network) and say so, without crashing the agent.
    const problem = await agent.waitForLog((l) => l.event === 'problem', 40_000);
    expect(String(problem.code)).toMatch(/^(DNS|TCP)_/);
    agent.kill('SIGTERM');
    // npm exits first; the agent under it logs its clean stop a moment later.
    expect(await agent.waitForLog((l) => l.msg === 'stopped')).toMatchObject({ clean: true });
  }, 60_000);
});
