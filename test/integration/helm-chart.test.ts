import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Service } from 'kubernetes-models/v1/Service';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { AgentProcess, BIN, vantage } from '../helpers/agent-process.js';
import { run } from '../lab/shell.js';

const CHART = resolve('helm/vantage');
const HELM = existsSync(resolve('.tools/helm')) ? resolve('.tools/helm') : 'helm';

type Manifest = { kind: string; metadata: { name: string }; spec?: unknown; data?: Record<string, string> };
type Container = {
  name: string;
  args: string[];
  env: Array<{ name: string; value?: string; valueFrom?: { fieldRef: { fieldPath: string } } }>;
  ports: Array<{ name: string; containerPort: number }>;
  livenessProbe: { httpGet: { path: string; port: string } };
  readinessProbe: { httpGet: { path: string; port: string } };
  securityContext: {
    capabilities: { drop: string[]; add?: string[] };
    runAsUser: number;
    runAsNonRoot: boolean;
    readOnlyRootFilesystem: boolean;
  };
  volumeMounts: Array<{ name: string; mountPath: string }>;
};
type PodSpec = {
  containers: Container[];
  volumes: Array<{ name: string; configMap?: { name: string } }>;
  terminationGracePeriodSeconds: number;
  hostNetwork: boolean;
  dnsPolicy?: string;
};
type Workload = Manifest & { spec: { replicas?: number; strategy?: { type: string }; template: { spec: PodSpec } } };

/** The Kubernetes (and Prometheus Operator) schema of each kind the chart renders. */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  ConfigMap,
  Service,
  DaemonSet,
  Deployment,
  PrometheusRule,
  ServiceMonitor,
};

async function helm(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return run([HELM, ...args], { timeoutMs: 60_000 }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') throw new Error('helm is missing: run `npm run tools` (it fetches one into .tools/)');
    throw err;
  });
}

async function render(...set: string[]): Promise<Manifest[]> {
  const r = await helm(['template', 'edge', CHART, ...set.flatMap((s) => ['--set', s])]);
  expect(r.code, r.stderr).toBe(0);
  return parseAllDocuments(r.stdout)
    .map((d) => d.toJS() as Manifest)
    .filter(Boolean);
}

const byKind = (docs: Manifest[], kind: string): Manifest[] => docs.filter((d) => d.kind === kind);
const workload = (docs: Manifest[]): Workload =>
  docs.find((d) => d.kind === 'DaemonSet' || d.kind === 'Deployment') as Workload;
const envOf = (c: Container, name: string) => c.env.find((e) => e.name === name);

describe('helm chart (helm/vantage)', () => {
  it('passes helm lint --strict in both modes', async () => {
    for (const mode of ['daemonset', 'deployment']) {
      const r = await helm(['lint', '--strict', CHART, '--set', `mode=${mode}`]);
      expect(r.stdout + r.stderr).toContain('0 chart(s) failed');
      expect(r.code).toBe(0);
    }
  });

  it('renders objects the Kubernetes and Prometheus Operator schemas accept', async () => {
    const docs = await render(
      'prometheusRule.enabled=true',
      'serviceMonitor.enabled=true',
      'grafanaDashboard.enabled=true',
    );
    expect(docs.map((d) => d.kind).sort()).toEqual([
      'ConfigMap',
      'ConfigMap',
      'DaemonSet',
      'PrometheusRule',
      'Service',
      'ServiceMonitor',
    ]);
    for (const doc of [...docs, ...(await render('mode=deployment'))]) {
      const Model = MODELS[doc.kind];
      expect(Model, doc.kind).toBeDefined();
      expect(() => new Model!(doc as never).validate(), `${doc.kind} ${doc.metadata.name}`).not.toThrow();
    }
  });

  it('runs a daemonset agent per node: node name as id, NET_RAW only, port probes, ConfigMap config', async () => {
    const docs = await render('identity.region=eu-west-1', 'identity.carrier=vodafone-de');
    const ds = workload(docs);
    expect(ds.kind).toBe('DaemonSet');
    const pod = ds.spec.template.spec;
    const c = pod.containers[0]!;
    expect(envOf(c, 'VANTAGE_AGENT_ID')?.valueFrom?.fieldRef.fieldPath).toBe('spec.nodeName');
    expect(envOf(c, 'VANTAGE_REGION')?.value).toBe('eu-west-1');
    expect(c.securityContext).toMatchObject({
      capabilities: { drop: ['ALL'], add: ['NET_RAW'] },
      runAsUser: 0,
      readOnlyRootFilesystem: true,
    });
    const port = c.ports.find((p) => p.name === 'metrics')!;
    expect(port.containerPort).toBe(9477);
    expect([c.livenessProbe.httpGet, c.readinessProbe.httpGet]).toEqual([
      { path: '/healthz', port: 'metrics' },
      { path: '/readyz', port: 'metrics' },
    ]);
    // -c names a file in the directory the ConfigMap is mounted at (a directory, so updates arrive).
    const mount = c.volumeMounts.find((m) => m.name === 'config')!;
    expect(c.args).toEqual(['run', '-c', `${mount.mountPath}/vantage.yaml`]);
    expect(pod.volumes.find((v) => v.name === 'config')?.configMap?.name).toBe(
      byKind(docs, 'ConfigMap')[0]!.metadata.name,
    );
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(10);
    const config = parse(byKind(docs, 'ConfigMap')[0]!.data!['vantage.yaml']!) as { listen: string };
    expect(config.listen).toBe(`0.0.0.0:${port.containerPort}`);
  });

  it('runs a deployment per region/carrier: pod name as id, and no capability at all without icmp', async () => {
    const dep = workload(await render('mode=deployment', 'replicas=2', 'icmp.enabled=false'));
    expect(dep.kind).toBe('Deployment');
    expect(dep.spec.replicas).toBe(2);
    const c = dep.spec.template.spec.containers[0]!;
    expect(envOf(c, 'VANTAGE_AGENT_ID')?.valueFrom?.fieldRef.fieldPath).toBe('metadata.name');
    expect(c.securityContext.capabilities).toEqual({ drop: ['ALL'] });
    expect(c.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65534 });
  });

  it("names a single-replica deployment's agent after the release, so its series survive rollouts", async () => {
    const one = workload(await render('mode=deployment'));
    expect(envOf(one.spec.template.spec.containers[0]!, 'VANTAGE_AGENT_ID')).toEqual({
      name: 'VANTAGE_AGENT_ID',
      value: 'edge-vantage',
    });
    const named = workload(await render('identity.agentId=probe-fra-1'));
    expect(envOf(named.spec.template.spec.containers[0]!, 'VANTAGE_AGENT_ID')).toEqual({
      name: 'VANTAGE_AGENT_ID',
      value: 'probe-fra-1',
    });
  });

  it('probes from the node with hostNetwork: its resolver, and no surge that would need its port twice', async () => {
    const dep = workload(await render('mode=deployment', 'hostNetwork=true'));
    expect(dep.spec.template.spec).toMatchObject({ hostNetwork: true, dnsPolicy: 'Default' });
    expect(dep.spec.strategy).toEqual({ type: 'Recreate' });
    expect(workload(await render('mode=deployment')).spec.template.spec.dnsPolicy).toBeUndefined();
  });

  it('ships the same alert rules and dashboard as deploy/', async () => {
    const docs = await render('prometheusRule.enabled=true', 'grafanaDashboard.enabled=true');
    const rule = byKind(docs, 'PrometheusRule')[0] as Manifest & { spec: { groups: unknown } };
    expect(rule.spec.groups).toEqual(
      (parse(readFileSync('deploy/prometheus/vantage-rules.yaml', 'utf8')) as { groups: unknown }).groups,
    );
    const dashboard = byKind(docs, 'ConfigMap').find((d) => d.metadata.name.endsWith('-dashboard'))!;
    expect(JSON.parse(dashboard.data!['vantage-overview.json']!)).toEqual(
      JSON.parse(readFileSync('deploy/grafana/vantage-overview.json', 'utf8')),
    );
  });

  it('refuses bad values and names the field', async () => {
    const mode = await helm(['template', 'edge', CHART, '--set', 'mode=statefulset']);
    expect(mode.code).not.toBe(0);
    expect(mode.stderr).toMatch(/- mode: mode must be one of the following: "daemonset", "deployment"/);
    const listen = await helm(['template', 'edge', CHART, '--set', 'config.listen=0.0.0.0:1']);
    expect(listen.code).not.toBe(0);
    expect(listen.stderr).toContain('config.listen');
    const typo = await helm(['template', 'edge', CHART, '--set', 'identiy.region=x']);
    expect(typo.code).not.toBe(0);
    expect(typo.stderr).toMatch(/identiy/);
    const id = await helm(['template', 'edge', CHART, '--set', 'config.agent.region=x']);
    expect(id.code).not.toBe(0);
    expect(id.stderr).toContain('config.agent.region');
    const monitor = await helm([
      'template',
      'edge',
      CHART,
      '--set',
      'serviceMonitor.enabled=true',
      '--set',
      'service.enabled=false',
    ]);
    expect(monitor.code).not.toBe(0);
    expect(monitor.stderr).toContain('serviceMonitor.enabled needs service.enabled');
  });
});

describe('helm chart push mode (remoteWrite): a forwarder sidecar', () => {
  const URL = 'https://metrics.example.com/api/v1/write';
  const push = (forwarder: string, ...set: string[]) =>
    render(
      'remoteWrite.enabled=true',
      `remoteWrite.url=${URL}`,
      `remoteWrite.forwarder=${forwarder}`,
      'identity.region=eu-west-1',
      'identity.carrier=vodafone-de',
      ...set,
    );
  const forwarderOf = (docs: Manifest[]) =>
    workload(docs).spec.template.spec.containers.find((c) => c.name === 'forwarder');
  type Mount = { name: string; mountPath: string };
  /** The environment the kubelet would give the forwarder (node name and pod IP from the downward API). */
  const kubeletEnv = (c: Container): string[] => {
    const env: Record<string, string> = {};
    for (const e of c.env) {
      const value = e.valueFrom
        ? e.valueFrom.fieldRef.fieldPath === 'status.podIP'
          ? '10.1.2.3'
          : 'node-a'
        : e.value!;
      env[e.name] = value.replace(/\$\((\w+)\)/g, (_, name: string) => env[name] ?? '');
    }
    return Object.entries(env).map(([k, v]) => `${k}=${v}`);
  };
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vantage-helm-push-'));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('is off by default: scrape mode, one container, no forwarder config', async () => {
    const docs = await render();
    expect(workload(docs).spec.template.spec.containers.map((c) => c.name)).toEqual(['vantage']);
    expect(byKind(docs, 'ConfigMap').map((d) => d.metadata.name)).toEqual(['edge-vantage']);
  });

  it.each(['vmagent', 'prometheus'])(
    '%s: objects the Kubernetes schemas accept; the agent identity, instance = pod IP:port, secrets mounted',
    async (forwarder) => {
      for (const mode of ['daemonset', 'deployment']) {
        const docs = await push(
          forwarder,
          `mode=${mode}`,
          'remoteWrite.auth.bearerToken.secretName=rw-token',
          'remoteWrite.tls.caSecretName=rw-ca',
        );
        for (const doc of docs) {
          const Model = MODELS[doc.kind];
          expect(Model, doc.kind).toBeDefined();
          expect(() => new Model!(doc as never).validate(), `${doc.kind} ${doc.metadata.name}`).not.toThrow();
        }
        const pod = workload(docs).spec.template.spec;
        const [agent, fwd] = pod.containers;
        expect(fwd!.name).toBe('forwarder');
        // The forwarder reads the same identity the agent does, plus the address a central scrape would use.
        expect(fwd!.env.slice(0, agent!.env.length)).toEqual(agent!.env);
        expect(envOf(fwd!, 'POD_IP')?.valueFrom?.fieldRef.fieldPath).toBe('status.podIP');
        expect(envOf(fwd!, 'VANTAGE_INSTANCE')?.value).toBe('$(POD_IP):9477');
        expect(fwd!.securityContext).toMatchObject({
          capabilities: { drop: ['ALL'] },
          runAsNonRoot: true,
          readOnlyRootFilesystem: true,
        });
        const volumes = new Set(pod.volumes.map((v) => v.name));
        for (const m of fwd!.volumeMounts as Mount[]) expect(volumes, m.name).toContain(m.name);
        const mounts = (fwd!.volumeMounts as Mount[]).map((m) => m.mountPath);
        expect(mounts).toEqual(
          expect.arrayContaining([
            '/etc/vantage-forwarder',
            '/var/lib/vantage-forwarder',
            '/etc/vantage-forwarder-secrets/bearer',
          ]),
        );
        const cm = byKind(docs, 'ConfigMap').find((d) => d.metadata.name === 'edge-vantage-forwarder');
        expect(cm, 'the forwarder ConfigMap').toBeDefined();
        expect(pod.volumes.find((v) => v.name === 'forwarder-config')?.configMap?.name).toBe(cm!.metadata.name);
      }
    },
  );

  it('prometheus: promtool check config --agent on the rendered config; prometheus takes the args', async () => {
    const docs = await push(
      'prometheus',
      'remoteWrite.auth.basicAuth.secretName=rw-basic',
      'remoteWrite.auth.basicAuth.username=vantage',
      'remoteWrite.tls.caSecretName=rw-ca',
      'remoteWrite.queue.concurrency=3',
      'remoteWrite.port=9101',
      'port=9555',
    );
    const fwd = forwarderOf(docs)!;
    const text = byKind(docs, 'ConfigMap').find((d) => d.metadata.name === 'edge-vantage-forwarder')!.data![
      'prometheus-agent.yaml'
    ]!;
    const file = join(dir, 'prometheus-agent.yaml');
    writeFileSync(file, text);
    const check = await run(['env', ...kubeletEnv(fwd), 'promtool', 'check', 'config', '--agent', file]);
    expect(check.stdout + check.stderr).toContain('is valid prometheus config file syntax');
    expect(check.code).toBe(0);
    const config = parse(text) as {
      scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[] }> }>;
      remote_write: Array<{
        url: string;
        basic_auth: { username: string; password_file: string };
        tls_config: { ca_file: string };
        queue_config: { max_shards: number };
      }>;
    };
    expect(config.scrape_configs.find((j) => j.job_name === 'vantage')!.static_configs[0]!.targets).toEqual([
      '127.0.0.1:9555',
    ]);
    // It scrapes itself where it listens.
    expect(config.scrape_configs.find((j) => j.job_name === 'vantage-forwarder')!.static_configs[0]!.targets).toEqual([
      '127.0.0.1:9101',
    ]);
    expect(fwd.args).toContain('--web.listen-address=127.0.0.1:9101');
    const rw = config.remote_write[0]!;
    expect(rw).toMatchObject({ url: URL, basic_auth: { username: 'vantage' }, queue_config: { max_shards: 3 } });
    const mounts = (fwd.volumeMounts as Mount[]).map((m) => m.mountPath);
    for (const path of [rw.basic_auth.password_file, rw.tls_config.ca_file])
      expect(
        mounts.some((m) => path.startsWith(`${m}/`)),
        path,
      ).toBe(true);
    const args = fwd.args.map((a) => (a.startsWith('--config.file=') ? `--config.file=${file}` : a));
    const flags = await run(['prometheus', ...args, '--version']);
    expect(flags.stderr).not.toMatch(/unknown|error/i);
    expect(flags.code).toBe(0);
  });

  it('vmagent: -dryRun passes on the rendered scrape config with the container args', async () => {
    const docs = await push(
      'vmagent',
      'remoteWrite.auth.bearerToken.secretName=rw-token',
      'remoteWrite.tls.certSecretName=rw-client',
      'remoteWrite.tls.serverName=metrics.example.com',
      'remoteWrite.port=9102',
      'port=9555',
    );
    const fwd = forwarderOf(docs)!;
    const text = byKind(docs, 'ConfigMap').find((d) => d.metadata.name === 'edge-vantage-forwarder')!.data![
      'vmagent-scrape.yaml'
    ]!;
    const file = join(dir, 'vmagent-scrape.yaml');
    writeFileSync(file, text);
    const args = fwd.args.map((a) => (a.startsWith('-promscrape.config=') ? `-promscrape.config=${file}` : a));
    expect(args).toContain(`-remoteWrite.url=${URL}`);
    const r = await run(['env', ...kubeletEnv(fwd), 'vmagent', ...args, '-dryRun', '-loggerLevel=ERROR']);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.code).toBe(0);
    const scrape = parse(text) as {
      scrape_configs: Array<{ job_name: string; honor_labels: boolean; static_configs: Array<{ targets: string[] }> }>;
    };
    const job = scrape.scrape_configs.find((j) => j.job_name === 'vantage')!;
    expect(job).toMatchObject({ honor_labels: true, static_configs: [{ targets: ['127.0.0.1:9555'] }] });
    const self = scrape.scrape_configs.find((j) => j.job_name === 'vantage-forwarder')!;
    expect(self.static_configs[0]!.targets).toEqual(['127.0.0.1:9102']);
    expect(args).toContain('-httpListenAddr=127.0.0.1:9102');
    const mounts = (fwd.volumeMounts as Mount[]).map((m) => m.mountPath);
    for (const flag of args.filter((a) => /File=/.test(a)))
      expect(
        mounts.some((m) => flag.split('=')[1]!.startsWith(`${m}/`)),
        flag,
      ).toBe(true);
  });

  it('refuses push mode: no URL, two credentials, a ServiceMonitor beside it, an unknown forwarder', async () => {
    const noUrl = await helm(['template', 'edge', CHART, '--set', 'remoteWrite.enabled=true']);
    expect(noUrl.code).not.toBe(0);
    expect(noUrl.stderr).toContain('remoteWrite.enabled needs remoteWrite.url');
    const both = await helm(
      [
        'template',
        'edge',
        CHART,
        ...['remoteWrite.enabled=true', `remoteWrite.url=${URL}`, 'remoteWrite.auth.bearerToken.secretName=a'],
        ...['remoteWrite.auth.basicAuth.secretName=b', 'remoteWrite.auth.basicAuth.username=u'],
      ].flatMap((a, i) => (i < 3 ? [a] : ['--set', a])),
    );
    expect(both.code).not.toBe(0);
    expect(both.stderr).toContain('set bearerToken or basicAuth, not both');
    const twice = await helm(
      [
        'template',
        'edge',
        CHART,
        'remoteWrite.enabled=true',
        `remoteWrite.url=${URL}`,
        'serviceMonitor.enabled=true',
      ].flatMap((a, i) => (i < 3 ? [a] : ['--set', a])),
    );
    expect(twice.code).not.toBe(0);
    expect(twice.stderr).toContain('a store would get every sample twice');
    const unknown = await helm(['template', 'edge', CHART, '--set', 'remoteWrite.forwarder=telegraf']);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/remoteWrite.forwarder/);
  });
});

/**
 * The rendered pod, run as a process: its config file, its environment and its probes. The
 * default targets are public endpoints and tests may only send traffic to loopback or to
 * namespaces they made, so the agent runs in a fresh namespace with nothing but loopback.
 */
describe.skipIf(process.getuid?.() !== 0)('helm chart pod, run as a process', () => {
  const ns = `vantage-helm-${process.pid}`;
  let dir = '';
  const agents: AgentProcess[] = [];
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vantage-helm-'));
    await run(['ip', 'netns', 'add', ns]);
    await run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  });
  afterEach(() => {
    for (const a of agents.splice(0)) a.kill();
  });
  afterAll(async () => {
    await run(['ip', 'netns', 'delete', ns]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('validates, starts, answers its probes and labels its series with the release identity', async () => {
    const docs = await render(
      'identity.region=eu-west-1',
      'identity.carrier=vodafone-de',
      'identity.networkType=mobile-4g',
    );
    const c = workload(docs).spec.template.spec.containers[0]!;
    const file = join(dir, 'vantage.yaml');
    writeFileSync(file, byKind(docs, 'ConfigMap')[0]!.data!['vantage.yaml']!);
    // What the kubelet would put in the environment (the downward API gives the node name).
    const env = Object.fromEntries(c.env.map((e) => [e.name, e.value ?? 'node-a']));
    const validate = await vantage(['validate', '-c', file], env);
    expect(validate.stderr).toBe('');
    expect(validate.code).toBe(0);

    const args = c.args.map((a) => (a.endsWith('/vantage.yaml') ? file : a));
    const agent = AgentProcess.start(['netns', 'exec', ns, process.execPath, BIN, ...args], env, ['ip']);
    agents.push(agent);
    const port = c.ports.find((p) => p.name === 'metrics')!.containerPort;
    expect(await agent.port()).toBe(port);
    const get = async (path: string) => {
      const r = await run([
        'ip',
        'netns',
        'exec',
        ns,
        'curl',
        '-s',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}',
        `http://127.0.0.1:${port}${path}`,
      ]);
      return r.stdout;
    };
    expect(await get(c.livenessProbe.httpGet.path)).toBe('200');
    expect(await get(c.readinessProbe.httpGet.path)).toBe('200');
    const metrics = await run(['ip', 'netns', 'exec', ns, 'curl', '-s', `http://127.0.0.1:${port}/metrics`]);
    expect(metrics.stdout).toMatch(
      new RegExp(
        'vantage_checks_configured\\{kind="https",agent="node-a",region="eu-west-1",carrier="vodafone-de",' +
          'network_type="mobile-4g"\\} 2',
      ),
    );
    // Root in its own namespace holds NET_RAW, as the chart's container does: the ICMP socket opens.
    expect(metrics.stdout).toMatch(/vantage_icmp_available\{family="ipv4",[^}]*\} 1/);
  }, 30_000);
});
