import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { AgentProcess, BIN, vantage } from '../helpers/agent-process.js';
import { podSecurityViolations } from '../helpers/pod-security.js';
import { makeWebCerts } from '../helpers/web-certs.js';
import type { PodTemplate } from '../helpers/pod-security.js';
import { run } from '../lab/shell.js';

const CHART = resolve('helm/vantage');
const HELM = existsSync(resolve('.tools/helm')) ? resolve('.tools/helm') : 'helm';

type Manifest = { kind: string; metadata: { name: string }; spec?: unknown; data?: Record<string, string> };
type Container = {
  name: string;
  args: string[];
  env: Array<{ name: string; value?: string; valueFrom?: { fieldRef: { fieldPath: string } } }>;
  ports: Array<{ name: string; containerPort: number }>;
  livenessProbe: { httpGet?: { path: string; port: string; scheme: string }; tcpSocket?: { port: string } };
  readinessProbe: { httpGet?: { path: string; port: string; scheme: string }; tcpSocket?: { port: string } };
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
  volumes: Array<{
    name: string;
    configMap?: { name: string };
    projected?: { sources: Array<{ secret: { name: string } }> };
  }>;
  securityContext: { runAsUser: number; runAsGroup: number; sysctls?: Array<{ name: string; value: string }> };
  terminationGracePeriodSeconds: number;
  hostNetwork: boolean;
  dnsPolicy?: string;
};
type Workload = Manifest & { spec: { replicas?: number; strategy?: { type: string }; template: { spec: PodSpec } } };
/** The pod template, as the Pod Security Standards read it. */
const podOf = (w: Workload): PodTemplate => w.spec.template;

/** The Kubernetes (and Prometheus Operator) schema of each kind the chart renders. */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  ConfigMap,
  Secret,
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

/** A bcrypt hash (of "s3cret", cost 10), as `htpasswd -nBC 10` writes them. */
const HASH = '$2b$10$Ieydd1MPd6WL0WzI/pqoGe8MDv5A5TGPhLxcHY9dUn6mMBdKA9D4G';
/** Values for TLS from a cert-manager Secret plus basic auth. */
const WEB_TLS_BASIC = [
  'webConfig.config.tls_server_config.cert_file=tls.crt',
  'webConfig.config.tls_server_config.key_file=tls.key',
  `webConfig.config.basic_auth_users.prometheus=${HASH}`,
  'webConfig.certSecretName=vantage-tls',
];

/**
 * NOTES.txt as `helm install` would print it. `helm template` skips NOTES and `install --dry-run`
 * needs a cluster, so a copy of the chart gets a template that includes it.
 */
async function notes(...set: string[]): Promise<string> {
  const copy = mkdtempSync(join(tmpdir(), 'vantage-chart-'));
  try {
    cpSync(CHART, copy, { recursive: true, dereference: true });
    writeFileSync(
      join(copy, 'templates/notes-probe.yaml'),
      'notes: {{ include "vantage/templates/NOTES.txt" . | toJson }}\n',
    );
    const r = await helm([
      'template',
      'edge',
      copy,
      '--show-only',
      'templates/notes-probe.yaml',
      ...set.flatMap((v) => ['--set', v]),
    ]);
    expect(r.code, r.stderr).toBe(0);
    return (parse(r.stdout) as { notes: string }).notes;
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
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

  it('runs a daemonset agent per node: node name as id, no capability, port probes, ConfigMap config', async () => {
    const docs = await render('identity.region=eu-west-1', 'identity.carrier=vodafone-de');
    const ds = workload(docs);
    expect(ds.kind).toBe('DaemonSet');
    const pod = ds.spec.template.spec;
    const c = pod.containers[0]!;
    expect(envOf(c, 'VANTAGE_AGENT_ID')?.valueFrom?.fieldRef.fieldPath).toBe('spec.nodeName');
    expect(envOf(c, 'VANTAGE_REGION')?.value).toBe('eu-west-1');
    expect(c.securityContext).toMatchObject({
      capabilities: { drop: ['ALL'] },
      runAsUser: 65534,
      readOnlyRootFilesystem: true,
    });
    // Ping sockets instead of NET_RAW: the pod opens them to the agent's group.
    expect(pod.securityContext.sysctls).toEqual([{ name: 'net.ipv4.ping_group_range', value: '65534 65534' }]);
    expect((parse(byKind(docs, 'ConfigMap')[0]!.data!['vantage.yaml']!) as { icmp_socket: string }).icmp_socket).toBe(
      'datagram',
    );
    const port = c.ports.find((p) => p.name === 'metrics')!;
    expect(port.containerPort).toBe(9477);
    expect([c.livenessProbe.httpGet, c.readinessProbe.httpGet]).toEqual([
      { path: '/healthz', port: 'metrics', scheme: 'HTTP' },
      { path: '/readyz', port: 'metrics', scheme: 'HTTP' },
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

  it('renders a pod that passes every rule of the "restricted" Pod Security Standard, in both modes', async () => {
    for (const set of [[], ['mode=deployment'], ['icmp.enabled=false'], WEB_TLS_BASIC]) {
      expect(podSecurityViolations(podOf(workload(await render(...set)))), set.join(' ')).toEqual({});
    }
    // The checker sees what it must: raw ICMP breaks the capability and non-root rules, hostNetwork
    // the host namespaces, and the ping_group_range sysctl is then left out (a hostNetwork pod may not set it).
    expect(podSecurityViolations(podOf(workload(await render('icmp.socket=raw'))))).toEqual({
      'Capabilities (baseline)': ['NET_RAW'],
      'Running as Non-root': ['vantage'],
      'Running as Non-root user': ['vantage'],
      'Capabilities (restricted)': ['vantage'],
    });
    const host = workload(await render('hostNetwork=true'));
    expect(podSecurityViolations(podOf(host))).toEqual({ 'Host Namespaces': ['hostNetwork'] });
    expect(host.spec.template.spec.securityContext.sysctls).toBeUndefined();
    expect(await notes('hostNetwork=true')).toContain('sysctl -w net.ipv4.ping_group_range="0 2147483647"');
    expect(await notes()).not.toContain('ping_group_range');
  });

  it('webConfig: a Secret beside the certificates, the flag, HTTPS probes, an https ServiceMonitor', async () => {
    const docs = await render(
      ...WEB_TLS_BASIC,
      'serviceMonitor.enabled=true',
      'serviceMonitor.tlsConfig.ca.secret.name=vantage-tls',
      'serviceMonitor.tlsConfig.ca.secret.key=ca.crt',
      'serviceMonitor.tlsConfig.serverName=vantage',
      'serviceMonitor.basicAuth.username.name=vantage-scrape',
      'serviceMonitor.basicAuth.username.key=username',
      'serviceMonitor.basicAuth.password.name=vantage-scrape',
      'serviceMonitor.basicAuth.password.key=password',
    );
    for (const doc of docs) expect(() => new MODELS[doc.kind]!(doc as never).validate(), doc.kind).not.toThrow();
    const secret = byKind(docs, 'Secret')[0] as Manifest & { stringData: Record<string, string> };
    expect(parse(secret.stringData['web.yml']!)).toEqual({
      tls_server_config: { cert_file: 'tls.crt', key_file: 'tls.key' },
      basic_auth_users: { prometheus: HASH },
      // The kubelet's probes carry no credentials.
      auth_excluded_paths: ['/healthz', '/readyz'],
    });
    const pod = workload(docs).spec.template.spec;
    const c = pod.containers[0]!;
    const mount = c.volumeMounts.find((m) => m.name === 'web')!;
    expect(c.args.slice(-2)).toEqual(['--web.config.file', `${mount.mountPath}/web.yml`]);
    expect(pod.volumes.find((v) => v.name === 'web')?.projected?.sources.map((s) => s.secret.name)).toEqual([
      secret.metadata.name,
      'vantage-tls',
    ]);
    expect([c.livenessProbe.httpGet?.scheme, c.readinessProbe.httpGet?.scheme]).toEqual(['HTTPS', 'HTTPS']);
    const monitor = byKind(docs, 'ServiceMonitor')[0] as Manifest & { spec: { endpoints: unknown[] } };
    expect(monitor.spec.endpoints[0]).toMatchObject({
      scheme: 'https',
      tlsConfig: { ca: { secret: { name: 'vantage-tls', key: 'ca.crt' } }, serverName: 'vantage' },
      basicAuth: { username: { name: 'vantage-scrape', key: 'username' } },
    });
    // Client certificates required: the kubelet has none, so the probes check the port.
    const mtls = workload(
      await render('webConfig.existingSecret=mine', 'webConfig.tls=true', 'webConfig.clientCertificates=true'),
    );
    const probe = mtls.spec.template.spec.containers[0]!.livenessProbe;
    expect(probe).toMatchObject({ tcpSocket: { port: 'metrics' } });
    expect(probe.httpGet).toBeUndefined();
  });

  it('refuses a web config given twice, or beside push mode (the forwarder has no credentials)', async () => {
    const twice = await helm([
      'template',
      'edge',
      CHART,
      '--set',
      'webConfig.existingSecret=a',
      ...WEB_TLS_BASIC.flatMap((v) => ['--set', v]),
    ]);
    expect(twice.code).not.toBe(0);
    expect(twice.stderr).toContain('webConfig: give config or existingSecret, not both');
    const push = await helm([
      'template',
      'edge',
      CHART,
      '--set',
      'webConfig.existingSecret=a',
      '--set',
      'remoteWrite.enabled=true',
      '--set',
      'remoteWrite.url=https://metrics.example.com/api/v1/write',
    ]);
    expect(push.code).not.toBe(0);
    expect(push.stderr).toContain('the forwarder scrapes the agent on loopback without TLS or credentials');
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
    // The pod's user reads the files the kubelet would mount.
    chmodSync(dir, 0o755);
    await run(['ip', 'netns', 'add', ns]);
    await run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  });

  /**
   * Starts the container's command as the kubelet would: in the pod's network namespace with the
   * pod's sysctls, as its user and group, with no capability and no_new_privs.
   */
  async function startPod(pod: PodSpec, args: string[], env: NodeJS.ProcessEnv): Promise<AgentProcess> {
    for (const sysctl of pod.securityContext.sysctls ?? [])
      await run(['ip', 'netns', 'exec', ns, 'sysctl', '-w', `${sysctl.name}=${sysctl.value}`]);
    const { runAsUser, runAsGroup } = pod.securityContext;
    const agent = AgentProcess.start(
      [
        'netns',
        'exec',
        ns,
        'setpriv',
        `--reuid=${runAsUser}`,
        `--regid=${runAsGroup}`,
        '--clear-groups',
        '--inh-caps=-all',
        '--bounding-set=-all',
        '--no-new-privs',
        process.execPath,
        BIN,
        ...args,
      ],
      env,
      ['ip'],
    );
    agents.push(agent);
    return agent;
  }

  /** The HTTP status curl gets in the pod's namespace. */
  const status = async (url: string, ...opts: string[]): Promise<string> => {
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
      ...opts,
      url,
    ]);
    return r.stdout;
  };
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
    const agent = await startPod(workload(docs).spec.template.spec, args, env);
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
    expect(await get(c.livenessProbe.httpGet!.path)).toBe('200');
    expect(await get(c.readinessProbe.httpGet!.path)).toBe('200');
    const metrics = await run(['ip', 'netns', 'exec', ns, 'curl', '-s', `http://127.0.0.1:${port}/metrics`]);
    expect(metrics.stdout).toMatch(
      new RegExp(
        'vantage_checks_configured\\{kind="https",agent="node-a",region="eu-west-1",carrier="vodafone-de",' +
          'network_type="mobile-4g"\\} 2',
      ),
    );
    // User 65534 with no capability opens ping sockets, as the pod's sysctl allows.
    expect(metrics.stdout).toMatch(/vantage_icmp_available\{family="ipv4",[^}]*socket="datagram"[^}]*\} 1/);
  }, 30_000);
  it('with a web config: HTTPS probes answer without credentials, /metrics wants them', async () => {
    const docs = await render(...WEB_TLS_BASIC);
    const pod = workload(docs).spec.template.spec;
    const c = pod.containers[0]!;
    const webDir = join(dir, 'web');
    mkdirSync(webDir, { mode: 0o755 });
    const certs = makeWebCerts();
    try {
      // The projected volume: the chart's Secret and the certificate Secret's keys, mode 0644.
      const secret = byKind(docs, 'Secret')[0] as Manifest & { stringData: Record<string, string> };
      writeFileSync(join(webDir, 'web.yml'), secret.stringData['web.yml']!, { mode: 0o644 });
      copyFileSync(certs.server.cert, join(webDir, 'tls.crt'));
      copyFileSync(certs.server.key, join(webDir, 'tls.key'));
      chmodSync(join(webDir, 'tls.key'), 0o644);
      const file = join(dir, 'vantage.yaml');
      writeFileSync(file, byKind(docs, 'ConfigMap')[0]!.data!['vantage.yaml']!);
      const mount = c.volumeMounts.find((m) => m.name === 'web')!.mountPath;
      const args = c.args.map((a) => (a.endsWith('/vantage.yaml') ? file : a.replace(mount, webDir)));
      const env = Object.fromEntries(c.env.map((e) => [e.name, e.value ?? 'node-a']));
      const agent = await startPod(pod, args, env);
      const port = await agent.port();
      const base = `${c.livenessProbe.httpGet!.scheme.toLowerCase()}://127.0.0.1:${port}`;
      // The kubelet does not verify the serving certificate: -k, as it.
      expect(await status(`${base}${c.livenessProbe.httpGet!.path}`, '-k')).toBe('200');
      expect(await status(`${base}${c.readinessProbe.httpGet!.path}`, '-k')).toBe('200');
      expect(await status(`${base}/metrics`, '--cacert', certs.ca)).toBe('401');
      expect(await status(`${base}/metrics`, '--cacert', certs.ca, '-u', 'prometheus:s3cret')).toBe('200');
    } finally {
      rmSync(certs.dir, { recursive: true, force: true });
    }
  }, 30_000);
});
