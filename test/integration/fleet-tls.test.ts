import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import {
  FleetSites,
  metric,
  prometheusReceiver,
  teardown,
  until,
  victoriaMetrics,
} from '../helpers/fleet-forwarders.js';
import { fleetNet } from '../helpers/fleet-net.js';
import type { Daemon, FleetNet } from '../helpers/fleet-net.js';
import { makeCerts } from '../lab/certs.js';
import type { LabCerts } from '../lab/certs.js';

/**
 * The push path to a central store behind TLS and credentials (issue 14), with a CA made for the
 * test: one agent in a namespace nothing connects into, its forwarders pushing over HTTPS to
 *  - Prometheus (`--web.config.file`: TLS and basic auth), from the Prometheus agent with basic auth;
 *  - VictoriaMetrics (`-tls`, `-httpAuth.*`), from vmagent with basic auth;
 *  - vmauth (`-tls`, a bearer_token user) in front of a second VictoriaMetrics, from vmagent with a
 *    bearer token.
 * Every forwarder verifies the store's certificate against the test CA (no skip-verify).
 */

const IDENTITY = [{ id: 'tls1', region: 'eu', carrier: 'red' }] as const;
const PROM = 9090;
const VM = 8428;
const VMAUTH = 8427;
/** The VictoriaMetrics behind vmauth, on the central namespace's loopback only. */
const VM_BEHIND = 8438;
const PASSWORD = 'right-horse-battery';
const TOKEN = 'vantage-bearer-0123456789';

const dir = mkdtempSync(join(tmpdir(), 'vantage-fleet-tls-'));
let net: FleetNet | undefined;
let sites: FleetSites | undefined;
let certs: LabCerts | undefined;
const daemons: Daemon[] = [];

function ready(): { net: FleetNet; sites: FleetSites; certs: LabCerts; store: string } {
  if (!net || !sites || !certs) throw new Error('the fleet network is not up');
  return { net, sites, certs, store: net.agents[0]!.centralAddress };
}

/** A GET from the central namespace over HTTPS, checked against the test CA, with optional credentials. */
async function get(url: string, auth: string[] = []): Promise<{ status: number; body: string }> {
  if (!net || !certs) throw new Error('the fleet network is not up');
  const r = await net.exec(
    net.central,
    ['curl', '-sS', '--max-time', '5', '--cacert', certs.caFile, ...auth, '-o', '-', '-w', '\n%{http_code}', url],
    8000,
  );
  const nl = r.stdout.lastIndexOf('\n');
  return { status: Number(r.stdout.slice(nl + 1)) || 0, body: r.stdout.slice(0, Math.max(nl, 0)) };
}

const BASIC = ['-u', `vantage:${PASSWORD}`];

/** Timestamps of `probe_success{target="web"}` from the agent in a store, over the last `seconds`. */
async function samples(base: string, auth: string[], seconds: number): Promise<number[]> {
  const q = encodeURIComponent(`probe_success{target="web",agent="tls1"}[${seconds}s]`);
  const r = await get(`${base}/api/v1/query?query=${q}`, auth);
  if (r.status !== 200) return [];
  const res = JSON.parse(r.body) as {
    data: { result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }> };
  };
  const s = res.data.result[0];
  if (s) expect(s.metric).toMatchObject({ agent: 'tls1', region: 'eu', carrier: 'red', job: 'vantage' });
  return s ? s.values.map(([t]) => t) : [];
}

beforeAll(async () => {
  net = await fleetNet(IDENTITY.length);
  const store = net.agents[0]!.centralAddress;
  certs = await makeCerts({
    name: 'store.fleet.test',
    wrongName: 'elsewhere.fleet.test',
    ips: [store],
    dnsName: 'dns.fleet.test',
    dnsIps: [],
  });
  const { cert, key } = certs.valid;
  writeFileSync(
    join(dir, 'web.yaml'),
    stringify({
      tls_server_config: { cert_file: cert, key_file: key },
      basic_auth_users: { vantage: bcrypt.hashSync(PASSWORD, 10) },
    }),
  );
  writeFileSync(join(dir, 'central.yaml'), stringify({ global: { scrape_interval: '1m' } }));
  writeFileSync(
    join(dir, 'vmauth.yaml'),
    stringify({ users: [{ bearer_token: TOKEN, url_prefix: `http://127.0.0.1:${VM_BEHIND}` }] }),
  );
  writeFileSync(join(dir, 'password'), PASSWORD);
  writeFileSync(join(dir, 'token'), TOKEN);
  const tls = ['-tls', `-tlsCertFile=${cert}`, `-tlsKeyFile=${key}`];
  daemons.push(
    prometheusReceiver(net, dir, 'prometheus', join(dir, 'central.yaml'), PROM, [
      `--web.config.file=${join(dir, 'web.yaml')}`,
    ]),
    victoriaMetrics(net, dir, 'vm', `0.0.0.0:${VM}`, [
      ...tls,
      '-httpAuth.username=vantage',
      `-httpAuth.password=${PASSWORD}`,
    ]),
    victoriaMetrics(net, dir, 'vm-behind-vmauth', `127.0.0.1:${VM_BEHIND}`),
    net.spawn(
      net.central,
      ['vmauth', `-auth.config=${join(dir, 'vmauth.yaml')}`, `-httpListenAddr=0.0.0.0:${VMAUTH}`, ...tls],
      'vmauth',
    ),
  );
  for (const url of [`https://${store}:${PROM}/-/ready`, `https://${store}:${VM}/health`])
    await until(url, async () => ((await get(url, BASIC)).status === 200 ? true : undefined), 30_000);
  sites = new FleetSites(net, dir, IDENTITY);
  daemons.push(sites.startAgent(0));
}, 60_000);

afterAll(() => teardown(net, certs ? [dir, certs.dir] : [dir]), 60_000);

function dump(): string {
  return daemons.map((d) => `--- ${d.name}\n${d.log().slice(-1500)}`).join('\n');
}

describe('fleet push path over TLS with credentials, the store verified against a test CA', () => {
  // As measured: 401 without credentials everywhere; a wrong password or token 401, but 400 from vmauth 1.79 (which
  // vmagent does not retry).
  it.each([
    { store: 'Prometheus', port: PROM, wrong: ['-u', 'vantage:wrong'], status: 401 },
    { store: 'VictoriaMetrics', port: VM, wrong: ['-u', 'vantage:wrong'], status: 401 },
    { store: 'vmauth', port: VMAUTH, wrong: ['-H', 'Authorization: Bearer wrong'], status: 400 },
  ])('$store refuses a writer without credentials (401) and with wrong ones ($status)', async (c) => {
    const url = `https://${ready().store}:${c.port}/api/v1/write`;
    expect((await get(url)).status).toBe(401);
    expect((await get(url, c.wrong)).status).toBe(c.status);
  });

  it.each([
    {
      path: 'Prometheus agent -> Prometheus: TLS and basic auth',
      store: (address: string): string => `https://${address}:${PROM}`,
      auth: BASIC,
      start: (s: FleetSites, caFile: string, address: string): Daemon => {
        const cfg = s.configs({
          url: `https://${address}:${PROM}/api/v1/write`,
          basic_auth: { username: 'vantage', password_file: join(dir, 'password') },
          tls_config: { ca_file: caFile },
        });
        return s.startPromAgent(0, 'prom-agent', cfg.prom, 9090);
      },
    },
    {
      path: 'vmagent -> vmauth -> VictoriaMetrics: TLS and a bearer token',
      store: (): string => `http://127.0.0.1:${VM_BEHIND}`,
      auth: [],
      start: (s: FleetSites, caFile: string, address: string): Daemon =>
        s.startVmAgent(0, 'vmagent-bearer', s.configs({}).vm, `https://${address}:${VMAUTH}/api/v1/write`, 8430, [
          `-remoteWrite.tlsCAFile=${caFile}`,
          `-remoteWrite.bearerTokenFile=${join(dir, 'token')}`,
        ]),
    },
  ])(
    '$path',
    async (c) => {
      const { sites: s, certs: cs, store } = ready();
      const d = c.start(s, cs.caFile, store);
      daemons.push(d);
      try {
        const ts = await until(
          'samples at the store',
          async () => {
            const t = await samples(c.store(store), c.auth, 10);
            return t.length >= 3 ? t : undefined;
          },
          30_000,
        );
        expect(new Set(ts).size).toBe(ts.length);
      } catch (err) {
        console.error(dump());
        throw err;
      } finally {
        d.kill();
      }
    },
    60_000,
  );

  it('vmagent -> VictoriaMetrics -httpAuth: a wrong password gets 401, retried; fixed, nothing is lost', async () => {
    const { sites: s, certs: c, net: n, store } = ready();
    const url = `https://${store}:${VM}/api/v1/write`;
    const flags = (password: string): string[] => [
      `-remoteWrite.tlsCAFile=${c.caFile}`,
      '-remoteWrite.basicAuth.username=vantage',
      `-remoteWrite.basicAuth.password=${password}`,
    ];
    const cfg = s.configs({}).vm;
    const wrong = s.startVmAgent(0, 'vmagent-basic', cfg, url, 8429, flags('wrong'));
    daemons.push(wrong);
    const a = n.agents[0]!;
    let right: Daemon | undefined;
    try {
      const start = Date.now() / 1000;
      const status401 = await until(
        'vmagent retrying 401 answers',
        async () => {
          const body = (await n.get(a.ns, 'http://127.0.0.1:8429/metrics')).body;
          const v = metric(body, 'vmagent_remotewrite_requests_total', /status_code="401"/);
          return v >= 2 ? body : undefined;
        },
        30_000,
      );
      expect(metric(status401, 'vmagent_remotewrite_packets_dropped_total')).toBe(0);
      expect(wrong.log()).toMatch(/unexpected status code received.*401/);
      const check = await n.exec(a.ns, ['sh', 'deploy/fleet/check-forwarder.sh']);
      expect(check.code, check.stdout).toBe(1);
      expect(check.stdout).toMatch(/refused: 401 x\d+.*\n.*refuses every request/);
      await new Promise((r) => setTimeout(r, 3000));
      expect(await samples(`https://${store}:${VM}`, BASIC, 60)).toEqual([]);
      // The credentials fixed: a restart (SIGTERM, as after editing the env file) with the same queue.
      wrong.kill('SIGTERM');
      await wrong.exited();
      const down = Date.now() / 1000;
      right = s.startVmAgent(0, 'vmagent-basic', cfg, url, 8429, flags(PASSWORD));
      daemons.push(right);
      const restarted = Date.now() / 1000;
      await until(
        'the queued samples and new ones at VictoriaMetrics',
        async () => {
          const ts = await samples(`https://${store}:${VM}`, BASIC, 60);
          return ts.some((t) => t > restarted + 2) ? true : undefined;
        },
        40_000,
      );
      const end = Date.now() / 1000;
      const ts = (await samples(`https://${store}:${VM}`, BASIC, Math.ceil(end - start) + 5)).filter(
        (t) => t >= start + 1 && t <= restarted + 2,
      );
      // One a second from the first scrape under the wrong password to the restart, but the seconds it was down.
      const lost = ts.slice(1).filter((t, i) => t - ts[i]! > 1.5 && !(ts[i]! >= down - 1.5 && t <= restarted + 2.5));
      console.log(
        `[fleet tls] wrong password for ${(down - start).toFixed(1)} s: ${ts.length} samples from ` +
          `${(ts[0]! - start).toFixed(1)} s to ${(ts[ts.length - 1]! - start).toFixed(1)} s; ` +
          `holes outside the restart: ${lost.length}`,
      );
      expect(ts[0]! - start).toBeLessThan(2.5);
      expect(lost).toEqual([]);
      expect(new Set(ts).size).toBe(ts.length);
    } catch (err) {
      console.error(dump());
      throw err;
    } finally {
      wrong.kill();
      right?.kill();
    }
  }, 90_000);
});
