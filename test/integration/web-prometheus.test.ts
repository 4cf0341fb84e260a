import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { AgentProcess, tempConfig, vantage } from '../helpers/agent-process.js';
import { openListener } from '../helpers/tcp-servers.js';
import type { Listener } from '../helpers/tcp-servers.js';
import { makeWebCerts } from '../helpers/web-certs.js';

// A real Prometheus scrapes agents behind exporter-toolkit web configs: one with TLS and basic
// auth, one that requires a client certificate. Wrong or missing credentials, plain HTTP to the
// TLS port and a missing client certificate must each show as a failed scrape with the reason.

const certs = makeWebCerts();
const PASSWORD = 's3cret';
const BASIC_WEB = `tls_server_config:
  cert_file: server.pem
  key_file: server.key
basic_auth_users:
  prom: '${bcrypt.hashSync(PASSWORD, 4)}'
auth_excluded_paths: [/healthz]
`;
const CLIENT_CERT_WEB = `tls_server_config:
  cert_file: server.pem
  key_file: server.key
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: ca.pem
`;
const basicWebFile = join(certs.dir, 'web-basic.yml');
const clientCertWebFile = join(certs.dir, 'web-client-cert.yml');
writeFileSync(basicWebFile, BASIC_WEB);
writeFileSync(clientCertWebFile, CLIENT_CERT_WEB);

const agents: AgentProcess[] = [];
const configs: Array<{ remove(): void }> = [];
let prometheus: ChildProcess | undefined;
let target: Listener;
let basicPort: number;
let clientCertPort: number;
let prometheusPort: number;

function agentConfig(): string {
  return `agent: {id: web, region: lab}
targets:
  - {name: local, host: 127.0.0.1, checks: [{kind: tcp, port: ${target.port}, interval: 1s, timeout: 500ms}]}
`;
}

async function startAgent(webFile: string): Promise<{ agent: AgentProcess; port: number }> {
  const cfg = tempConfig(agentConfig());
  configs.push(cfg);
  const agent = AgentProcess.start(['run', '-c', cfg.file, '--listen', '127.0.0.1:0', '--web.config.file', webFile]);
  agents.push(agent);
  return { agent, port: await agent.port() };
}

/** GET over TLS trusting the test CA, with basic auth; the status and body. */
function tlsGet(port: number, path: string, auth?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        path,
        ca: readFileSync(certs.ca),
        agent: false,
        timeout: 5_000,
        ...(auth ? { auth } : {}),
      },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += String(d)));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

interface ActiveTarget {
  labels: { job: string };
  health: string;
  lastError: string;
}

async function targets(): Promise<ActiveTarget[]> {
  const res = await fetch(`http://127.0.0.1:${prometheusPort}/api/v1/targets?state=active`);
  return ((await res.json()) as { data: { activeTargets: ActiveTarget[] } }).data.activeTargets;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

beforeAll(async () => {
  target = await openListener();
  basicPort = (await startAgent(basicWebFile)).port;
  clientCertPort = (await startAgent(clientCertWebFile)).port;
  const tls = { ca_file: certs.ca };
  const job = (name: string, port: number, extra: Record<string, unknown>) => ({
    job_name: name,
    static_configs: [{ targets: [`127.0.0.1:${port}`] }],
    ...extra,
  });
  const promConfig = join(certs.dir, 'prometheus.yaml');
  writeFileSync(
    promConfig,
    stringify({
      global: { scrape_interval: '1s', scrape_timeout: '900ms' },
      scrape_configs: [
        job('tls-basic', basicPort, {
          scheme: 'https',
          tls_config: tls,
          basic_auth: { username: 'prom', password: PASSWORD },
        }),
        job('wrong-password', basicPort, {
          scheme: 'https',
          tls_config: tls,
          basic_auth: { username: 'prom', password: 'nope' },
        }),
        job('no-credentials', basicPort, { scheme: 'https', tls_config: tls }),
        job('plain-http', basicPort, { scheme: 'http', basic_auth: { username: 'prom', password: PASSWORD } }),
        job('client-cert', clientCertPort, {
          scheme: 'https',
          tls_config: { ...tls, cert_file: certs.client.cert, key_file: certs.client.key },
        }),
        job('no-client-cert', clientCertPort, { scheme: 'https', tls_config: tls }),
      ],
    }),
  );
  const listener = await openListener();
  prometheusPort = listener.port;
  await listener.close();
  prometheus = spawn(
    'prometheus',
    [
      `--config.file=${promConfig}`,
      `--storage.tsdb.path=${join(certs.dir, 'tsdb')}`,
      `--web.listen-address=127.0.0.1:${prometheusPort}`,
    ],
    { stdio: 'ignore' },
  );
  prometheus.on('error', (err) => console.error(`prometheus did not start (${err.message}): .ci/run installs it`));
}, 30_000);

afterAll(async () => {
  for (const a of agents) a.kill();
  prometheus?.kill('SIGKILL');
  for (const c of configs) c.remove();
  await target?.close();
  rmSync(certs.dir, { recursive: true, force: true });
});

describe('a real Prometheus scraping agents behind a web config', () => {
  it('scrapes over TLS with basic auth, and with a client certificate; refuses the rest with reasons', async () => {
    const jobs = await until(
      'every job scraped once',
      async () => {
        const found = await targets();
        // A scrape that timed out on a busy machine is no verdict: wait for the next one.
        const settled = found.every((t) => t.health !== 'unknown' && !t.lastError.includes('deadline exceeded'));
        return found.length === 6 && settled ? found : undefined;
      },
      20_000,
    );
    const byJob = Object.fromEntries(jobs.map((t) => [t.labels.job, t]));
    expect(byJob['tls-basic']).toMatchObject({ health: 'up', lastError: '' });
    expect(byJob['client-cert']).toMatchObject({ health: 'up', lastError: '' });
    expect(byJob['wrong-password']).toMatchObject({ health: 'down', lastError: expect.stringContaining('401') });
    expect(byJob['no-credentials']).toMatchObject({ health: 'down', lastError: expect.stringContaining('401') });
    expect(byJob['plain-http']).toMatchObject({ health: 'down', lastError: expect.stringContaining('400') });
    expect(byJob['no-client-cert']?.health).toBe('down');
    const res = await fetch(
      `http://127.0.0.1:${prometheusPort}/api/v1/query?query=${encodeURIComponent('probe_success{job="tls-basic"}')}`,
    );
    const result = ((await res.json()) as { data: { result: Array<{ value: [number, string] }> } }).data.result;
    expect(result.map((r) => r.value[1])).toEqual(['1']);
  }, 30_000);
});

describe('a broken web config', () => {
  it('is refused at start: exit 2, naming the file, line and field', async () => {
    const bad = join(certs.dir, 'web-bad.yml');
    writeFileSync(bad, 'tls_server_config:\n  cert_file: missing.pem\n  key_file: server.key\n');
    const cfg = tempConfig(agentConfig());
    configs.push(cfg);
    const r = await vantage(['run', '-c', cfg.file, '--listen', '127.0.0.1:0', '--web.config.file', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${bad}:2:14: tls_server_config.cert_file:`);
    expect(r.stderr).toContain('missing.pem');
  });

  it('is rejected on SIGHUP (previous one kept, the log says why, the metric drops); a fix is seen', async () => {
    const file = join(certs.dir, 'web-reload.yml');
    writeFileSync(file, BASIC_WEB);
    const { agent, port } = await startAgent(file);
    expect((await tlsGet(port, '/metrics', `prom:${PASSWORD}`)).status).toBe(200);
    writeFileSync(file, BASIC_WEB.replace('auth_excluded_paths', '  ops: hunter2\nauth_excluded_paths'));
    agent.kill('SIGHUP');
    const rejected = await agent.waitForLog((l) => l.event === 'web_config_rejected');
    expect(rejected.problems).toEqual([
      expect.stringContaining(`${file}:6:8: basic_auth_users.ops: not a bcrypt hash`),
    ]);
    const scrape = await tlsGet(port, '/metrics', `prom:${PASSWORD}`);
    expect(scrape.status).toBe(200);
    expect(scrape.body).toMatch(/^vantage_web_config_last_reload_successful\{[^}]*\} 0$/m);
    expect((await tlsGet(port, '/metrics')).status).toBe(401);
    // No signal this time: the agent watches the web config's directory.
    writeFileSync(file, BASIC_WEB);
    await until(
      'the good file back in force',
      async () => {
        const body = (await tlsGet(port, '/metrics', `prom:${PASSWORD}`)).body;
        return /^vantage_web_config_last_reload_successful\{[^}]*\} 1$/m.test(body) ? true : undefined;
      },
      10_000,
    );
  }, 30_000);
});
