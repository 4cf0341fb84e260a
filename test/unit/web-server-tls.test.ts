import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { MetricRegistries } from '../../src/metrics/registries.js';
import { startMetricsServer } from '../../src/web/server.js';
import type { MetricsServer } from '../../src/web/server.js';
import { parseWebConfig } from '../../src/web/web-config.js';
import { PLAIN_WEB_CONFIG } from '../../src/web/web-config-shape.js';
import type { WebConfig } from '../../src/web/web-config-shape.js';
import { makeWebCerts } from '../helpers/web-certs.js';
import type { KeyPair } from '../helpers/web-certs.js';

const certs = makeWebCerts();
const HASH = bcrypt.hashSync('s3cret', 4);
const servers: MetricsServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});
afterAll(() => rmSync(certs.dir, { recursive: true, force: true }));

function webConfig(text: string): WebConfig {
  const file = join(certs.dir, 'web.yml');
  writeFileSync(file, text);
  return parseWebConfig(file, text);
}

function tlsSection(clientAuth: string, extra = ''): string {
  const ca = clientAuth.includes('Verify') ? '  client_ca_file: ca.pem\n' : '';
  const pair = '  cert_file: server.pem\n  key_file: server.key\n';
  return `tls_server_config:\n${pair}  client_auth_type: ${clientAuth}\n${ca}${extra}`;
}

/** A server whose web config the test can swap, as a reload does. */
async function serve(initial: WebConfig): Promise<{ port: number; use(config: WebConfig): void }> {
  let current = initial;
  const server = await startMetricsServer({
    registries: new MetricRegistries({ processMetrics: false, sliceMs: 0, restMs: 0 }),
    listen: { host: '127.0.0.1', port: 0 },
    isReady: () => true,
    webConfig: () => current,
  });
  servers.push(server);
  return { port: server.address.port, use: (config) => (current = config) };
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
}

/** An HTTPS GET trusting the test CA; rejects when the handshake or the connection fails. */
function get(port: number, path: string, opts: { client?: KeyPair; auth?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        path,
        ca: readFileSync(certs.ca),
        agent: false,
        ...(opts.client ? { cert: readFileSync(opts.client.cert), key: readFileSync(opts.client.key) } : {}),
        ...(opts.auth ? { auth: opts.auth } : {}),
        timeout: 3_000,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** The status, or `refused` when TLS (or the server after it) ended the connection. */
async function outcome(port: number, client?: KeyPair): Promise<number | 'refused'> {
  try {
    return (await get(port, '/healthz', client ? { client } : {})).status;
  } catch {
    return 'refused';
  }
}

describe('TLS client authentication, as exporter-toolkit defines each client_auth_type', () => {
  it.each([
    ['NoClientCert', 200, 200, 200],
    ['RequestClientCert', 200, 200, 200],
    ['RequireAnyClientCert', 'refused', 200, 200],
    ['VerifyClientCertIfGiven', 200, 'refused', 200],
    ['RequireAndVerifyClientCert', 'refused', 'refused', 200],
  ] as const)('%s: no certificate %s, a stranger %s, one the CA signed %s', async (type, none, stranger, signed) => {
    const { port } = await serve(webConfig(tlsSection(type)));
    expect(await outcome(port)).toBe(none);
    expect(await outcome(port, certs.stranger)).toBe(stranger);
    expect(await outcome(port, certs.client)).toBe(signed);
  });

  it('client_allowed_sans lets in only certificates naming one of them', async () => {
    const allowed = await serve(
      webConfig(tlsSection('RequireAndVerifyClientCert', '  client_allowed_sans: [prometheus.test]\n')),
    );
    expect(await outcome(allowed.port, certs.client)).toBe(200);
    const other = await serve(
      webConfig(tlsSection('RequireAndVerifyClientCert', '  client_allowed_sans: [grafana.test]\n')),
    );
    expect(await outcome(other.port, certs.client)).toBe('refused');
  });

  it('answers plain HTTP on the TLS port as Go does, and closes', async () => {
    const { port } = await serve(webConfig(tlsSection('NoClientCert')));
    const text = await new Promise<string>((resolve) => {
      let got = '';
      const socket = connect(port, '127.0.0.1', () => socket.write('GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n'));
      socket.on('data', (d: Buffer) => (got += d.toString()));
      socket.on('error', () => undefined);
      socket.on('close', () => resolve(got));
    });
    expect(text).toBe('HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n');
  });

  it('takes a reloaded web config on new connections: plain, then TLS', async () => {
    const server = await serve(PLAIN_WEB_CONFIG);
    await expect(outcome(server.port)).resolves.toBe('refused');
    server.use(webConfig(tlsSection('NoClientCert')));
    await expect(outcome(server.port)).resolves.toBe(200);
  });
});

describe('basic auth and headers on every path', () => {
  const config = (): WebConfig =>
    webConfig(
      `${tlsSection('NoClientCert')}basic_auth_users:\n  prom: '${HASH}'\nauth_excluded_paths: [/healthz]\n` +
        'http_server_config:\n  headers:\n    X-Content-Type-Options: nosniff\n',
    );

  it.each([
    ['/metrics', undefined, 401],
    ['/metrics', 'prom:wrong', 401],
    ['/metrics', 'nobody:s3cret', 401],
    ['/metrics', 'prom:s3cret', 200],
    ['/', undefined, 401],
    ['/nothing', undefined, 401],
    ['/nothing', 'prom:s3cret', 404],
    ['/readyz', undefined, 401],
    ['/healthz', undefined, 200],
  ])('%s with %s -> %d, with the configured headers', async (path, auth, status) => {
    const { port } = await serve(config());
    const answer = await get(port, path, auth ? { auth } : {});
    expect(answer.status).toBe(status);
    expect(answer.headers['x-content-type-options']).toBe('nosniff');
    if (status === 401) expect(answer.headers['www-authenticate']).toBe('Basic');
  });
});
