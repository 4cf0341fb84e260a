import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { AgentProcess, tempConfig } from '../helpers/agent-process.js';
import { openListener, refusedListener } from '../helpers/tcp-servers.js';
import type { Listener } from '../helpers/tcp-servers.js';
import { run } from '../lab/shell.js';
import { catalogue, groupingLabels, promqlMetricNames, recordedNames } from '../helpers/promql.js';

const RULES = resolve('deploy/prometheus/vantage-rules.yaml');
const RULE_TESTS = resolve('deploy/prometheus/vantage-rules.test.yaml');

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  annotations?: Record<string, string>;
}
interface RuleFile {
  groups: Array<{ name: string; rules: Rule[] }>;
}
interface RuleTests {
  tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts: unknown[] }> }>;
}

const rules = parse(readFileSync(RULES, 'utf8')) as RuleFile;
const allRules = rules.groups.flatMap((g) => g.rules);
const alerts = allRules.filter((r) => r.alert);
const recorded = new Map(allRules.filter((r) => r.record).map((r) => [r.record!, r.expr]));

/** The agent's series an expression reads, directly or through the recording rules it uses. */
function rawMetrics(expr: string): string[] {
  return [...promqlMetricNames(expr), ...recordedNames(expr).flatMap((name) => rawMetrics(recorded.get(name) ?? ''))];
}

async function promtool(args: string[]): Promise<{ code: number | null; out: string }> {
  const r = await run(['promtool', ...args], { timeoutMs: 60_000 }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') throw new Error('promtool is missing: apt-get install prometheus (.ci/run does)');
    throw err;
  });
  return { code: r.code, out: r.stdout + r.stderr };
}

describe('alert rules (deploy/prometheus)', () => {
  it('load in Prometheus (promtool check rules)', async () => {
    const r = await promtool(['check', 'rules', RULES]);
    expect(r.out).toContain(`SUCCESS: ${allRules.length} rules found`);
    expect(r.code).toBe(0);
  });

  it('pass their promtool unit tests, and every alert has a situation where it fires', async () => {
    const r = await promtool(['test', 'rules', RULE_TESTS]);
    expect(r.out).toContain('SUCCESS');
    expect(r.code).toBe(0);
    const tests = parse(readFileSync(RULE_TESTS, 'utf8')) as RuleTests;
    const fired = new Set(
      tests.tests
        .flatMap((t) => t.alert_rule_test ?? [])
        .filter((t) => t.exp_alerts.length > 0)
        .map((t) => t.alertname),
    );
    expect([...new Set(alerts.map((a) => a.alert))].filter((name) => !fired.has(name!))).toEqual([]);
  });

  it('are each listed in the README', () => {
    const readme = readFileSync('README.md', 'utf8');
    expect([...new Set(alerts.map((a) => a.alert!))].filter((name) => !readme.includes(`| \`${name}\` |`))).toEqual([]);
  });

  it('only use metrics the agent exports or the file records, grouped by labels those metrics have', () => {
    const known = catalogue();
    const unknown = allRules.flatMap((r) => promqlMetricNames(r.expr)).filter((name) => !known.has(name));
    expect(unknown).toEqual([]);
    expect(allRules.flatMap((r) => recordedNames(r.expr)).filter((name) => !recorded.has(name))).toEqual([]);
    for (const r of allRules) {
      const labels = new Set(rawMetrics(r.expr).flatMap((n) => [...known.get(n)!]));
      expect(
        groupingLabels(r.expr).filter((l) => !labels.has(l)),
        r.alert ?? r.record,
      ).toEqual([]);
    }
  });
});

/**
 * The rules against what a real agent exports: its scrape, held still for half an hour, is the
 * input. Catches a label the rules group by that the agent does not set, or a renamed series,
 * which the hand-written unit tests above cannot.
 */
describe('alert rules on a real agent scrape', () => {
  let open: Listener;
  let closed: Listener;
  let agent: AgentProcess;
  let cfg: ReturnType<typeof tempConfig>;
  let dir: string;
  const up = 'agent="edge-1",region="eu-test-1",carrier="test-carrier",network_type="lab"';

  beforeAll(async () => {
    open = await openListener();
    closed = await refusedListener();
    dir = mkdtempSync(join(tmpdir(), 'vantage-rules-'));
    cfg = tempConfig(`agent: {id: edge-1, region: eu-test-1, carrier: test-carrier, network_type: lab}
targets:
  - {name: reachable, host: 127.0.0.1, checks: [{kind: tcp, port: ${open.port}, interval: 1s, timeout: 500ms}]}
  - {name: refused, host: 127.0.0.1, checks: [{kind: tcp, port: ${closed.port}, interval: 1s, timeout: 500ms}]}
`);
    agent = AgentProcess.start(['run', '-c', cfg.file, '--listen', '127.0.0.1:0']);
  });
  afterAll(async () => {
    agent?.kill();
    cfg?.remove();
    rmSync(dir, { recursive: true, force: true });
    await Promise.all([open?.close(), closed?.close()]);
  });

  it('fires the unreachable alert for the refused target only, with the agent identity on it', async () => {
    const scrape = await agent.waitForMetrics(
      (b) => b.includes('probe_success{check="refused-tcp"') && b.includes('probe_success{check="reachable-tcp"'),
    );
    const series = scrape
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('#'))
      .map((l) => {
        const cut = l.lastIndexOf(' ');
        const name = l.slice(0, cut).split('{')[0]!;
        // The agent keeps running: its counters go on counting (one more a minute), gauges hold still.
        const counting = /_(total|count|bucket)$/.test(name);
        return { series: l.slice(0, cut), values: `${l.slice(cut + 1)}${counting ? '+1' : ''}x30` };
      });
    // Labels and selectors are what this test is about; the annotation texts are the unit tests'.
    const labelsOnly = {
      groups: rules.groups.map((g) => ({ ...g, rules: g.rules.map(({ annotations: _, ...rule }) => rule) })),
    };
    writeFileSync(join(dir, 'rules.yaml'), JSON.stringify(labelsOnly));
    writeFileSync(
      join(dir, 'scrape.test.yaml'),
      JSON.stringify({
        rule_files: [join(dir, 'rules.yaml')],
        evaluation_interval: '1m',
        tests: [
          {
            interval: '1m',
            input_series: series,
            alert_rule_test: [
              {
                eval_time: '6m',
                alertname: 'VantageTargetUnreachable',
                exp_alerts: [
                  {
                    exp_labels: withoutIp(
                      labelsOf(series, 'probe_success{check="refused-tcp"', { severity: 'warning' }),
                    ),
                  },
                ],
              },
              { eval_time: '5m', alertname: 'VantageAddressUnreachable', exp_alerts: [] },
              { eval_time: '5m', alertname: 'VantageChecksNotRunning', exp_alerts: [] },
              { eval_time: '5m', alertname: 'VantageNoAgents', exp_alerts: [] },
              { eval_time: '5m', alertname: 'VantageConfigRejected', exp_alerts: [] },
              { eval_time: '30m', alertname: 'VantageIntermittentFailures', exp_alerts: [] },
            ],
          },
        ],
      }),
    );
    expect(labelsOf(series, 'probe_success{check="refused-tcp"', {})).toMatchObject({
      agent: 'edge-1',
      region: 'eu-test-1',
      carrier: 'test-carrier',
      target: 'refused',
      kind: 'tcp',
      ip: '127.0.0.1',
    });
    expect(scrape).toContain(`vantage_checks_configured{kind="tcp",${up}} 2`);
    // What VantageVantagePointMissing and VantageNoAgents count: build info with the identity.
    expect(scrape).toMatch(new RegExp(`vantage_build_info\\{version="[^"]+",node_version="[^"]+",${up}\\} 1`));
    const r = await promtool(['test', 'rules', join(dir, 'scrape.test.yaml')]);
    expect(r.out).toContain('SUCCESS');
    expect(r.code).toBe(0);
  }, 30_000);
});

/** Alerts on a check as a whole carry no address (see the recording rule vantage:check_success:max). */
function withoutIp({ ip: _, ...labels }: Record<string, string>): Record<string, string> {
  return labels;
}

/** The labels of the scraped series that starts with `prefix`, plus `extra`. */
function labelsOf(
  series: Array<{ series: string }>,
  prefix: string,
  extra: Record<string, string>,
): Record<string, string> {
  const line = series.find((s) => s.series.startsWith(prefix));
  if (!line) throw new Error(`no series ${prefix} in the scrape`);
  const labels = Object.fromEntries([...line.series.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]));
  return { ...labels, ...extra };
}

const FLEET = resolve('deploy/fleet');
type ComposeService = {
  image: string;
  command: string[];
  network_mode?: string;
  env_file?: string[];
  cap_drop?: string[];
  cap_add?: string[];
  profiles?: string[];
  volumes?: string[];
};

/** The env file the VM shapes read, as a map (comments and blank lines left out). */
function fleetEnv(): Record<string, string> {
  return Object.fromEntries(
    readFileSync(join(FLEET, 'vantage.env'), 'utf8')
      .split('\n')
      .filter((l) => /^[A-Z_]+=/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

/** `${VAR}` and `${VAR:?message}` as compose and systemd expand them from the env file. */
function expand(text: string, env: Record<string, string>): string {
  return text.replace(/\$\{(\w+)(?::\?[^}]*)?\}/g, (_, name: string) => {
    if (!(name in env)) throw new Error(`${name} is not set in vantage.env`);
    return env[name]!;
  });
}

/** A mounted file's path in the repository, from a compose volume `./file:/in/container:ro`. */
function mounted(service: ComposeService, inContainer: string): string {
  const volume = service.volumes?.find((v) => v.split(':')[1] === inContainer);
  if (!volume) throw new Error(`nothing mounted at ${inContainer}`);
  return join(FLEET, volume.split(':')[0]!);
}

describe('fleet configs (deploy/fleet): the forwarders and central stores, checked by the real tools', () => {
  const env = fleetEnv();
  const compose = parse(readFileSync(join(FLEET, 'compose.yaml'), 'utf8')) as {
    services: Record<string, ComposeService>;
    volumes: Record<string, unknown>;
  };
  const identity = [
    'VANTAGE_AGENT_ID',
    'VANTAGE_REGION',
    'VANTAGE_CARRIER',
    'VANTAGE_NETWORK_TYPE',
    'VANTAGE_INSTANCE',
  ];
  const envArgs = identity.map((name) => `${name}=${env[name]}`);

  it('the env file sets the identity, a loopback listen address and the remote_write URL', () => {
    expect(Object.keys(env)).toEqual(
      expect.arrayContaining([...identity, 'VANTAGE_LISTEN', 'VANTAGE_REMOTE_WRITE_URL']),
    );
    expect(env.VANTAGE_LISTEN).toMatch(/^127\.0\.0\.1:9477$/);
  });

  it('Prometheus agent mode: promtool accepts the forwarder config, and the flags compose gives it', async () => {
    const r = await run([
      'env',
      ...envArgs,
      'promtool',
      'check',
      'config',
      '--agent',
      join(FLEET, 'prometheus-agent.yaml'),
    ]);
    expect(r.stdout + r.stderr).toContain('is valid prometheus config file syntax');
    expect(r.code).toBe(0);
    const config = parse(readFileSync(join(FLEET, 'prometheus-agent.yaml'), 'utf8')) as {
      global: { external_labels: Record<string, string> };
      scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[] }> }>;
    };
    expect(config.global.external_labels).toMatchObject({
      agent: '${VANTAGE_AGENT_ID}',
      region: '${VANTAGE_REGION}',
      carrier: '${VANTAGE_CARRIER}',
      network_type: '${VANTAGE_NETWORK_TYPE}',
    });
    expect(config.scrape_configs.find((j) => j.job_name === 'vantage')?.static_configs[0]?.targets).toEqual([
      env.VANTAGE_LISTEN,
    ]);
    // kingpin parses every flag before --version acts: an unknown flag fails here.
    const service = compose.services['prometheus-agent']!;
    const flags = await run(['prometheus', ...service.command.map((a) => expand(a, env)), '--version']);
    expect(flags.stderr).not.toMatch(/unknown|error/i);
    expect(flags.code).toBe(0);
    expect(service.command).toContain('--enable-feature=agent,expand-external-labels');
    expect(mounted(service, '/etc/vantage-forwarder/prometheus-agent.yaml')).toBe(join(FLEET, 'prometheus-agent.yaml'));
  });

  it('vmagent: -dryRun accepts the scrape config with the flags of compose and of the systemd unit', async () => {
    const service = compose.services.vmagent!;
    const scrapeFile = mounted(service, '/etc/vantage-forwarder/vmagent-scrape.yaml');
    const composeFlags = service.command
      .map((a) => expand(a, env))
      .map((a) => a.replace('/etc/vantage-forwarder/vmagent-scrape.yaml', scrapeFile));
    const unit = readFileSync(join(FLEET, 'systemd/vantage-forwarder.service'), 'utf8');
    const execStart = unit.match(/^ExecStart=((?:[^\n]*\\\n)*[^\n]*)/m)![1]!.replace(/\\\n/g, ' ');
    const unitFlags = expand(execStart, env)
      .split(/\s+/)
      .slice(1)
      .map((a) => a.replace('/etc/vantage/vmagent-scrape.yaml', scrapeFile));
    for (const flags of [composeFlags, unitFlags]) {
      const r = await run(['env', ...envArgs, 'vmagent', ...flags, '-dryRun', '-loggerLevel=ERROR']);
      expect(r.stdout + r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(flags).toContain(`-remoteWrite.url=${env.VANTAGE_REMOTE_WRITE_URL}`);
    }
    // The same forwarder either way (the config path aside).
    expect(unitFlags.map((f) => f.replace(/=.*vantage-forwarder$/, '=QUEUE')).sort()).toEqual(
      composeFlags.map((f) => f.replace(/=.*vantage-forwarder$/, '=QUEUE')).sort(),
    );
    const scrape = parse(readFileSync(scrapeFile, 'utf8')) as {
      scrape_configs: Array<{ job_name: string; honor_labels?: boolean; static_configs: Array<{ targets: string[] }> }>;
    };
    const job = scrape.scrape_configs.find((j) => j.job_name === 'vantage')!;
    expect(job.static_configs[0]!.targets).toEqual([env.VANTAGE_LISTEN]);
    // The agent's own identity labels win over the target's: its series stay as a central scrape sees them.
    expect(job.honor_labels).toBe(true);
  });

  it('compose: the agent with NET_RAW only, forwarders on its loopback, a queue volume, variables set', () => {
    const { vantage, vmagent, 'prometheus-agent': promAgent } = compose.services;
    expect(vantage).toMatchObject({ image: 'vantage:0.1.0', cap_drop: ['ALL'], cap_add: ['NET_RAW'] });
    expect(vantage!.command).toEqual(['run', '-c', '/app/config/vantage.yaml']);
    expect(vmagent!.image).toMatch(/^victoriametrics\/vmagent:v1\.79\./);
    expect(promAgent!.image).toMatch(/^prom\/prometheus:v2\.42\./);
    expect(promAgent!.profiles).toEqual(['prometheus-agent']);
    for (const s of [vantage!, vmagent!, promAgent!]) expect(s.env_file).toEqual(['vantage.env']);
    for (const s of [vmagent!, promAgent!]) {
      expect(s.network_mode).toBe('service:vantage');
      const named = s.volumes!.map((v) => v.split(':')[0]!).filter((v) => !v.startsWith('.'));
      expect(named.length).toBe(1);
      expect(Object.keys(compose.volumes)).toContain(named[0]);
      for (const file of s.volumes!.filter((v) => v.startsWith('.')))
        expect(existsSync(join(FLEET, file.split(':')[0]!))).toBe(true);
    }
    expect(() => expand(readFileSync(join(FLEET, 'compose.yaml'), 'utf8'), env)).not.toThrow();
  });

  it.skipIf(!existsSync('/usr/bin/systemd-analyze'))('systemd: the units pass systemd-analyze verify', async () => {
    const units = [
      'vantage.service',
      'vantage-forwarder.service',
      'vantage-forwarder-prometheus.service',
      'vantage-fleet.target',
    ];
    const r = await run(['systemd-analyze', 'verify', '--man=no', ...units.map((u) => join(FLEET, 'systemd', u))]);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.code).toBe(0);
    const target = readFileSync(join(FLEET, 'systemd/vantage-fleet.target'), 'utf8');
    expect(target).toMatch(/^Wants=vantage\.service vantage-forwarder\.service$/m);
  });

  it('central stores: Prometheus with the shipped rules (promtool), vmalert -dryRun on the same file', async () => {
    const prom = await promtool(['check', 'config', join(FLEET, 'central/prometheus.yaml')]);
    expect(prom.out).toContain(`SUCCESS: ${allRules.length} rules found`);
    expect(prom.code).toBe(0);
    const central = readFileSync(join(FLEET, 'central/victoriametrics.sh'), 'utf8');
    expect(central).toContain('vmalert -rule="$RULES"');
    expect(central).toContain('prometheus/vantage-rules.yaml');
    const vm = await run(['vmalert', '-dryRun', `-rule=${RULES}`, '-loggerLevel=ERROR']);
    expect(vm.stdout + vm.stderr).toBe('');
    expect(vm.code).toBe(0);
    expect((await run(['sh', '-n', join(FLEET, 'central/victoriametrics.sh')])).code).toBe(0);
  });
});

/**
 * The push path's promise, with the real forwarders on loopback: the series a forwarder pushes
 * carry the same labels as those a central Prometheus scrapes from the same agent. One agent;
 * Prometheus A scrapes it as job "vantage"; Prometheus agent mode pushes it to receiver B and
 * vmagent pushes it to VictoriaMetrics C, both with deploy/fleet's configs (ports and intervals
 * changed only).
 */
describe('pushed series carry the labels scraped ones do (deploy/fleet forwarders)', () => {
  const children: ChildProcess[] = [];
  let agent: AgentProcess;
  let cfg: ReturnType<typeof tempConfig>;
  let open: Listener;
  let dir: string;
  const stores: Record<string, string> = {};
  const identity = {
    VANTAGE_AGENT_ID: 'edge-push',
    VANTAGE_REGION: 'eu-test-1',
    VANTAGE_CARRIER: 'test-carrier',
    VANTAGE_NETWORK_TYPE: 'lab',
  };

  async function freePort(): Promise<number> {
    const l = await openListener();
    await l.close();
    return l.port;
  }
  function daemon(argv: string[], env: Record<string, string> = {}): void {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: 'ignore', env: { ...process.env, ...env } });
    child.on('error', () => undefined);
    children.push(child);
  }
  async function query(store: string, promql: string): Promise<Array<Record<string, string>>> {
    const res = await fetch(`${stores[store]}/api/v1/query?query=${encodeURIComponent(promql)}`).catch(() => undefined);
    if (!res?.ok) return [];
    const body = (await res.json()) as { data: { result: Array<{ metric: Record<string, string> }> } };
    return body.data.result.map((r) => r.metric);
  }

  beforeAll(async () => {
    open = await openListener();
    dir = mkdtempSync(join(tmpdir(), 'vantage-push-'));
    cfg = tempConfig(`agent: {id: edge-push, region: eu-test-1, carrier: test-carrier, network_type: lab}
targets:
  - {name: reachable, host: 127.0.0.1, checks: [{kind: tcp, port: ${open.port}, interval: 1s, timeout: 500ms}]}
`);
    agent = AgentProcess.start(['run', '-c', cfg.file, '--listen', '127.0.0.1:0']);
    const target = `127.0.0.1:${await agent.port()}`;
    const [a, b, c, promAgent, vmagent] = await Promise.all([1, 2, 3, 4, 5].map(() => freePort()));
    const fast = (text: string) =>
      text
        .replaceAll('127.0.0.1:9477', target)
        .replaceAll('scrape_interval: 30s', 'scrape_interval: 1s')
        .replaceAll('scrape_timeout: 10s', 'scrape_timeout: 1s')
        .replaceAll('batch_send_deadline: 5s', 'batch_send_deadline: 1s');
    const env = { ...identity, VANTAGE_INSTANCE: target };

    writeFileSync(
      join(dir, 'a.yaml'),
      'global: {scrape_interval: 1s, scrape_timeout: 1s}\n' +
        `scrape_configs: [{job_name: vantage, static_configs: [{targets: ["${target}"]}]}]\n`,
    );
    daemon([
      'prometheus',
      `--config.file=${join(dir, 'a.yaml')}`,
      `--storage.tsdb.path=${join(dir, 'a')}`,
      `--web.listen-address=127.0.0.1:${a}`,
    ]);
    writeFileSync(join(dir, 'b.yaml'), 'global: {}\n');
    daemon([
      'prometheus',
      `--config.file=${join(dir, 'b.yaml')}`,
      '--web.enable-remote-write-receiver',
      `--storage.tsdb.path=${join(dir, 'b')}`,
      `--web.listen-address=127.0.0.1:${b}`,
    ]);
    daemon([
      'victoria-metrics',
      `-storageDataPath=${join(dir, 'c')}`,
      `-httpListenAddr=127.0.0.1:${c}`,
      '-search.latencyOffset=0s',
      '-loggerLevel=ERROR',
    ]);
    writeFileSync(
      join(dir, 'prometheus-agent.yaml'),
      fast(readFileSync(join(FLEET, 'prometheus-agent.yaml'), 'utf8'))
        .replaceAll('127.0.0.1:9090', `127.0.0.1:${promAgent}`)
        .replace('https://metrics.example.com/api/v1/write', `http://127.0.0.1:${b}/api/v1/write`),
    );
    daemon(
      [
        'prometheus',
        '--enable-feature=agent,expand-external-labels',
        `--config.file=${join(dir, 'prometheus-agent.yaml')}`,
        `--storage.agent.path=${join(dir, 'wal')}`,
        `--web.listen-address=127.0.0.1:${promAgent}`,
      ],
      env,
    );
    writeFileSync(
      join(dir, 'vmagent-scrape.yaml'),
      fast(readFileSync(join(FLEET, 'vmagent-scrape.yaml'), 'utf8')).replaceAll(
        '127.0.0.1:8429',
        `127.0.0.1:${vmagent}`,
      ),
    );
    daemon(
      [
        'vmagent',
        `-promscrape.config=${join(dir, 'vmagent-scrape.yaml')}`,
        `-httpListenAddr=127.0.0.1:${vmagent}`,
        `-remoteWrite.url=http://127.0.0.1:${c}/api/v1/write`,
        `-remoteWrite.tmpDataPath=${join(dir, 'queue')}`,
        '-loggerLevel=ERROR',
      ],
      env,
    );
    Object.assign(stores, {
      scraped: `http://127.0.0.1:${a}`,
      prometheusAgent: `http://127.0.0.1:${b}`,
      vmagent: `http://127.0.0.1:${c}`,
    });
  }, 30_000);
  afterAll(async () => {
    for (const child of children) child.kill();
    agent?.kill();
    cfg?.remove();
    await open?.close();
    await new Promise((r) => setTimeout(r, 300));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the agent series and `up` arrive with job, instance and identity as the central scrape has them', async () => {
    const selector = '{__name__=~"vantage_build_info|vantage_checks_configured|probe_success|up",job="vantage"}';
    const canonical = (metrics: Array<Record<string, string>>) =>
      metrics.map((m) => JSON.stringify(Object.entries(m).sort())).sort();
    const seen: Record<string, string[]> = {};
    const deadline = Date.now() + 40_000;
    for (;;) {
      for (const store of Object.keys(stores)) seen[store] = canonical(await query(store, selector));
      const complete = Object.values(seen).every((s) => s.length >= 4);
      if (complete || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const scraped = seen
      .scraped!.map((s) => JSON.parse(s) as Array<[string, string]>)
      .map((e) => Object.fromEntries(e));
    expect(scraped.find((m) => m.__name__ === 'probe_success')).toMatchObject({
      job: 'vantage',
      instance: expect.stringMatching(/^127\.0\.0\.1:\d+$/) as unknown,
      agent: 'edge-push',
      region: 'eu-test-1',
      carrier: 'test-carrier',
      network_type: 'lab',
      target: 'reachable',
    });
    // The agent's own series: identical label sets on the three paths.
    const agentSeries = (s: string[]) => s.filter((x) => !x.includes('"__name__","up"'));
    expect(agentSeries(seen.prometheusAgent!)).toEqual(agentSeries(seen.scraped!));
    expect(agentSeries(seen.vmagent!)).toEqual(agentSeries(seen.scraped!));
    // `up` as the central scrape has it, plus the agent's identity (what VantageAgentDown names).
    const up = (s: string[]) =>
      s
        .filter((x) => x.includes('"__name__","up"'))
        .map((x) => Object.fromEntries(JSON.parse(x) as Array<[string, string]>));
    const scrapedUp = up(seen.scraped!)[0]!;
    for (const store of ['prometheusAgent', 'vmagent'])
      expect(up(seen[store]!), store).toEqual([
        { ...scrapedUp, agent: 'edge-push', region: 'eu-test-1', carrier: 'test-carrier', network_type: 'lab' },
      ]);
    // The forwarders' own remote-write health arrives with the identity (VantageForwarderFailing reads it).
    const health = async (store: string, name: string) => (await query(store, name))[0];
    expect(await health('prometheusAgent', 'prometheus_remote_storage_samples_total')).toMatchObject({
      job: 'vantage-forwarder',
      agent: 'edge-push',
      region: 'eu-test-1',
    });
    expect(await health('vmagent', 'vmagent_remotewrite_requests_total')).toMatchObject({
      job: 'vantage-forwarder',
      agent: 'edge-push',
      region: 'eu-test-1',
    });
  }, 60_000);
});
